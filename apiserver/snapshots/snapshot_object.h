// The Snapshot resource (repositories.stash.appscode.com/v1alpha1) as Stash
// 0.8.3 shapes it (docs/stash-objects.md, "4. The Snapshot object"; where we differ:
// docs/decisions.md, "3. Snapshot objects stay compatible with 0.8.3"):
//
//   metadata.name               <repository>-<first 8 hex of the snapshot id>
//   metadata.uid                the full snapshot id
//   metadata.creationTimestamp  the snapshot's time
//   metadata.labels             the Repository's labels + repository + hostname
//   status                      tree, paths, hostname, username, uid, gid, tags
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "apiserver/snapshots/repository_source.h"
#include "apiserver/machinery/resource.h"
#include "crypto/id.h"
#include "storage/snapshot.h"

namespace stash::apiserver {

const ResourceInfo& SnapshotResourceInfo();
const std::vector<TableColumn>& SnapshotColumns();
const std::vector<SchemaField>& SnapshotSchema();

// The object of snapshot `id`, sealed: its JSON, Table row and
// PartialObjectMetadata rendered once, here. `labels` are the Repository's
// (by default its spec's).
ObjectPtr MakeSnapshotObject(const RepositorySpec& repository, const std::map<std::string, std::string>& labels,
                             const Id& id, const Snapshot& snapshot, uint64_t resource_version);
ObjectPtr MakeSnapshotObject(const RepositorySpec& repository, const Id& id, const Snapshot& snapshot,
                             uint64_t resource_version);

// "<repository>-<8 hex>" split into the repository name and the short id;
// nullopt for a name no snapshot can have.
std::optional<std::pair<std::string, std::string>> ParseSnapshotName(const std::string& name);

}  // namespace stash::apiserver
