// A Repository object (stash.appscode.com/v1alpha1) as a Recovery reads it:
// its backend, its storage Secret and the restic host its snapshots carry.
//
// A Repository made by a 0.8.3 sidecar is labelled with the workload it
// backs up (docs/stash-objects.md, section 3), and that names the host:
// the workload name for a Deployment, ReplicaSet or ReplicationController,
// the pod name (`pod-name`) for a StatefulSet, the node name (`node-name`)
// for a DaemonSet. A Repository without a `workload-kind` label was made by
// hand; its snapshots are taken from every host.
#pragma once

#include <map>
#include <string>

#include <rapidjson/document.h>

#include "base/result.h"
#include "stashapi/stash_backend.h"

namespace stash {

struct StashRepository {
  std::string ns, name;
  std::map<std::string, std::string> labels;
  std::string storage_secret_name;
  StashBackend backend;
  std::string host;       // the restic host of its snapshots; "" for every host
  std::string node_name;  // a DaemonSet's node: where its local data lives
};

// The backend block (`spec.backend`) as StashBackend; `labels` decide
// whether it was made by a sidecar.
StashBackend BackendFromJson(const rapidjson::Value& backend, const std::map<std::string, std::string>& labels);

// Reads a Repository object. kInvalid naming the Repository when it has no
// backend block, no storageSecretName, or sidecar labels that name no host
// (an unknown workload-kind, no workload-name, a StatefulSet without
// pod-name, a DaemonSet without node-name).
Result<StashRepository> ParseRepository(const rapidjson::Value& repository);

}  // namespace stash
