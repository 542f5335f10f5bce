// The Job that carries out a Recovery, as a pure function of the Recovery
// and its Repository (docs/stash-objects.md, section 6).
//
// As Stash 0.8.3 made it: a batch/v1 Job `stash-recovery-<recovery>` owned
// by the Recovery, labelled app=stash, recovery=<name>, operation=recovery
// (its pod too), one container `stash` running `recover
// --recovery-name=<name>`, the scratch emptyDir `stash-scratchdir` at /tmp,
// each recovered volume as `vol-<i>` at its mountPath (and subPath), the
// Repository's local backend as `stash-local`, the Recovery's
// imagePullSecrets, `nodeName` = the node of a DaemonSet's Repository or
// else the Recovery's nodeSelector, and a service account named after the
// Job (bound to the ClusterRole `stash-recovery`) so the pod can read the
// Recovery, its Repository and Secret, and write the Recovery's stats.
//
// Where we differ (docs/decisions.md, "11. Recovery Jobs"): the local volume
// is mounted with the Repository's whole subPath, so the repository is the
// mountPath itself; restartPolicy is Never with backoffLimit 2 and a pod
// failure policy that fails the Job at once on exit code 2 (`stash recover`'s
// code for what no retry can fix: a wrong password, a missing snapshot);
// and the container's log tail on failure becomes its termination message
// (FallbackToLogsOnError), which is how the operator learns why it failed.
#pragma once

#include <string>

#include "base/result.h"
#include "kube/object.h"
#include "kube/resource.h"
#include "stashapi/recovery_spec.h"
#include "stashapi/stash_repository.h"

namespace stash::op {

inline const kube::Resource kRecoveries{"stash.appscode.com", "v1alpha1", "recoveries", "Recovery", true};
inline const kube::Resource kRepositories{"stash.appscode.com", "v1alpha1", "repositories", "Repository", true};
using kube::resources::kJobs;
using kube::resources::kRoleBindings;
using kube::resources::kServiceAccounts;

inline constexpr char kRecoveryClusterRole[] = "stash-recovery";
// `stash recover` exits with this when a retry cannot help.
inline constexpr int kRecoverPermanentExit = 2;

struct RecoveryJobOptions {
  std::string image = "stash:0.1.0";
};

// stash-recovery-<recovery>: the Job, its service account and role binding.
std::string RecoveryJobName(const std::string& recovery);

// The Job for `recovery` (the object, whose recoveredVolumes' sources are
// copied as written) restoring from `repository` (the object, whose local
// backend block is copied likewise). kInvalid when a path or recovered
// volume would lie inside the local repository's mountPath or /tmp (the
// scratch folder), where the restore would overwrite the repository or be
// hidden by the scratch volume.
Result<std::string> RecoveryJobJson(const kube::Json& recovery, const RecoverySpec& spec,
                                    const kube::Json& repository, const StashRepository& repo,
                                    const RecoveryJobOptions& options);

// The Job's service account and its RoleBinding to kRecoveryClusterRole,
// both owned by the Recovery.
std::string RecoveryServiceAccountJson(const RecoverySpec& spec);
std::string RecoveryRoleBindingJson(const RecoverySpec& spec);

}  // namespace stash::op
