// A Recovery (stash.appscode.com/v1alpha1) as both its operator and its Job
// read it: which Repository, which snapshot (or the latest of each path),
// which paths, and the volumes the paths are restored into
// (docs/stash-objects.md, section 6).
//
// ParseRecovery checks what Stash 0.8.3 checked (paths, recovered volumes,
// repository name and namespace, snapshot prefix) and what we check besides
// because a Job could not do anything sensible otherwise: paths must be
// absolute and lie inside a recovered volume (anything else would be
// written into the container's own file system and lost with it), each
// recovered volume needs an absolute mountPath and a volume source, and a
// snapshot must be a Snapshot object name, `<repository>-<8 hex digits>`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "base/result.h"

namespace stash {

struct RecoveredVolume {
  std::string mount_path, sub_path;
};

struct RecoverySpec {
  std::string ns, name, uid;
  int64_t generation = 0;
  std::string repository_ns, repository_name;
  std::string snapshot;  // a Snapshot object name; "" for the latest of each path
  std::vector<std::string> paths;
  std::vector<RecoveredVolume> volumes;
  std::vector<std::string> image_pull_secrets;
  std::map<std::string, std::string> node_selector;
};

// Reads and checks a Recovery object. kInvalid naming the Recovery and the
// field.
Result<RecoverySpec> ParseRecovery(const rapidjson::Value& recovery);

// The 8 hex digits that end a Snapshot object name of `repository`
// ("deployment.web-1a2b3c4d" -> "1a2b3c4d"). kInvalid naming the snapshot
// when it is not `<repository>-<8 hex digits>`.
Result<std::string> SnapshotShortId(const std::string& snapshot, const std::string& repository);

// The recovered volume a path is written into: the one whose mountPath is
// the path or its nearest ancestor. nullopt when none holds it.
std::optional<size_t> VolumeFor(const RecoverySpec& spec, const std::string& path);

}  // namespace stash
