// A Restic object (stash.appscode.com/v1alpha1) as the sidecar and the
// operator's validation read it:
// what to back up, how long to keep it, where to, and when. Parsed from the
// object the API server returned, and checked the way Stash 0.8.3 checked a
// Restic before using it.
#pragma once

#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "base/result.h"
#include "stashapi/stash_backend.h"

namespace stash {

// spec.retentionPolicies[]: restic forget's keep flags (0 = unset).
struct RetentionPolicy {
  std::string name;
  int keep_last = 0, keep_hourly = 0, keep_daily = 0, keep_weekly = 0, keep_monthly = 0, keep_yearly = 0;
  std::vector<std::string> keep_tags;
  bool prune = false;
  bool dry_run = false;
};

// One retention policy object ({name, keepLast, ..., prune, dryRun}), as
// Restic and the v1beta1 kinds share it.
RetentionPolicy ParseRetentionPolicy(const rapidjson::Value& policy);

// spec.fileGroups[].
struct FileGroup {
  std::string path;
  std::vector<std::string> tags;
  std::string retention_policy_name;  // "" for none
};

struct ResticSpec {
  std::string ns, name, uid;
  std::string schedule;
  bool paused = false;
  std::vector<FileGroup> file_groups;
  std::vector<RetentionPolicy> retention_policies;
  std::string storage_secret_name;
  StashBackend backend;
  std::vector<std::string> image_pull_secrets;

  // The policy a file group names; nullptr for none.
  const RetentionPolicy* PolicyFor(const FileGroup& group) const;
};

// Reads and checks a Restic. kInvalid, naming the Restic and the field, for
// what 0.8.3 refused (a retention policy name used twice or not found,
// no storageSecretName) and for what we refuse besides because a run could
// not do anything sensible with it: no file groups, a file group without an
// absolute path, no backend block.
Result<ResticSpec> ParseRestic(const rapidjson::Value& restic);

}  // namespace stash
