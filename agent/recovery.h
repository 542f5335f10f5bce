// What a Recovery's Job runs (`stash recover --recovery-name=NAME`): the
// restore itself, inside the pod the operator made (operator/recovery_job.h).
//
// It reads the Recovery, its Repository and the Repository's storage
// Secret from the API; opens the repository (a local backend at its
// mountPath, where the Job mounts its volume with the Repository's subPath;
// any other backend at its location) under a shared lock; and restores
// each path from its snapshot (recovery_snapshot.h) to the path itself,
// which lies in one of the recovered volumes the Job mounts, so the files
// come back where they were backed up from, and the path's folder gets its
// own mode, owner and times back, as with 0.8.3. One path failing
// does not stop the others. Each path's outcome is written to the
// Recovery's status.stats (path, phase, duration), as 0.8.3's job wrote it;
// the phase itself is the operator's to set.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/snapshot_select.h"
#include "kube/client.h"
#include "kube/informer.h"

namespace stash::agent {

struct PathOutcome {
  std::string path;
  Status status;  // Ok when the path was restored
  std::chrono::nanoseconds took{0};
};

// Restores `path` from the snapshot to the path itself, its folder
// getting its own mode, owner and times back (the Recovery's restore, also
// used by v1beta1's restore-session). The caller holds a lock and has
// loaded the index. Errors name what could not be restored.
Status RestorePathFrom(Repository& repo, const SnapshotEntry& entry, const std::string& path,
                       const kube::LogFn& log);

// The merge patch of the Recovery's status subresource that records the
// outcomes as status.stats.
std::string StatsPatch(const std::vector<PathOutcome>& outcomes);

// Restores the Recovery `ns/name`. Ok when every path was restored; else
// the first failure, its message naming the path. The error's kind tells
// whether running again could help (see RetryCanHelp).
Status RunRecovery(kube::Client& client, const std::string& ns, const std::string& name, const kube::LogFn& log);

// False for what stays wrong however often the Job runs: bad input
// (kInvalid), a missing object, snapshot or path (kNotFound), a wrong
// password (kAuth from the repository), damaged data (kCorrupt), an
// unsupported format. Trouble reaching the cluster or the storage
// (kIO, a held lock) can pass. RunRecovery reports the cluster's own
// refusals (401/403) as kIO, since access may just not have been granted
// yet.
bool RetryCanHelp(const Error& error);

}  // namespace stash::agent
