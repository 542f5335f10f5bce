// The repository check Job of a Restic, as Stash 0.8.3 made it: a
// batch/v1 Job `stash-check-<restic>` (labels app=stash, restic=<name>,
// operation=check; owned by the Restic, so it goes with it) whose one
// container `stash` runs `stash check --restic-name=<r> --host-name=<host>
// --smart-prefix=<prefix>`, with the scratch folder at /tmp, the local
// backend's volume when there is one, the Restic's imagePullSecrets and
// restartPolicy OnFailure.
//
// The sidecar makes sure it exists after a successful session, and every
// three days (0.8.3's `0 0 */3 * *`) replaces a finished one so the check
// runs again. The pod runs as the sidecar's own service account when that
// is known, since it reads the same Restic and Secret.
#pragma once

#include <string>

#include "stashapi/restic_spec.h"
#include "base/result.h"
#include "kube/client.h"

namespace stash::agent {

inline const kube::Resource kJobs{"batch", "v1", "jobs", "Job", true};
inline constexpr char kCheckSchedule[] = "0 0 */3 * *";

struct CheckJobSpec {
  std::string host, smart_prefix;
  std::string image;
  std::string service_account;  // "" for the namespace's default
};

std::string CheckJobName(const std::string& restic);

// `restic` is the Restic object (its uid and spec.backend.local are used).
std::string CheckJobJson(const kube::Json& restic, const ResticSpec& spec, const CheckJobSpec& job);

// True when the Job has finished, successfully or not.
bool JobFinished(const kube::Json& job);

enum class CheckJobAction { kNone, kCreated };

// Creates the Job unless it exists.
Result<CheckJobAction> EnsureCheckJob(kube::Client& client, const kube::Json& restic, const ResticSpec& spec,
                                      const CheckJobSpec& job);

// Deletes a finished Job (its pods too) and creates it afresh; leaves a
// running one alone, and a missing one to the next successful session
// (before the first, there is no repository to check).
Result<CheckJobAction> RenewCheckJob(kube::Client& client, const kube::Json& restic, const ResticSpec& spec,
                                     const CheckJobSpec& job);

}  // namespace stash::agent
