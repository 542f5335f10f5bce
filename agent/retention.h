// A Restic's retention policy applied after a file group's backup, as
// Stash 0.8.3 ran `restic forget --keep-* ... [--prune] [--dry-run]`.
//
// One difference: 0.8.3 ran forget over the whole repository, so the policy
// of the last file group also thinned the snapshots of the others (restic
// groups by host and paths, and each group got every policy in turn). Here
// each policy applies only to the snapshots of its own file group's path
// (and the host), so two file groups with two policies each keep what their
// own policy says.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "stashapi/restic_spec.h"
#include "base/result.h"
#include "engine/forget.h"
#include "storage/repository.h"

namespace stash::agent {

// keepLast..keepYearly as counts, each keepTags entry as one tag list.
ExpirePolicy ExpirePolicyOf(const RetentionPolicy& policy);

// Whether forget runs at all: 0.8.3 skipped it when no keep rule was set
// (prune alone has nothing to act on then).
bool HasKeepRule(const RetentionPolicy& policy);

struct RetentionResult {
  size_t kept = 0;
  size_t removed = 0;  // snapshots forgotten (would be, with dryRun)
  bool pruned = false;
};

// Applies `policy` to the snapshots of `host` with exactly the paths
// {`path`}, under an exclusive lock: forgets those the policy does not
// keep, then prunes when the policy says so and something was forgotten.
// With dryRun nothing is removed. The caller has opened `repo`.
// `retry_lock`: how long to wait for another process's lock (0: fail at once).
Result<RetentionResult> ApplyRetention(Repository& repo, const RetentionPolicy& policy, const std::string& host,
                                       const std::string& path, std::chrono::seconds retry_lock = {});

}  // namespace stash::agent
