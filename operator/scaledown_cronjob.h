// What an offline Restic (`spec.type: offline`) needs besides its init
// container, as Stash 0.8.3 named it: a batch/v1 CronJob
// `stash-scaledown-cron-<restic>` that restarts the Restic's workloads on
// its schedule, so that the init container backs up on each start
// (docs/stash-objects.md, section 5.2).
//
// Pure functions of the Restic and the operator's options; the controller
// server-side-applies what they return on every change, so running them
// twice changes nothing.
//
//   CronJob    labels app=stash, restic=<name>, operation=scale-down (its
//              Jobs' pods too); owned by the Restic (controller), so the
//              garbage collector deletes it with the Restic; schedule =
//              spec.schedule (a leading seconds field dropped: Kubernetes
//              schedules by the minute), suspend = spec.paused,
//              concurrencyPolicy Forbid; its Job runs one container `stash`
//              (the operator's image) with `scaledown --restic-name=<name>`,
//              restartPolicy Never, backoffLimit 1, as the service account
//              below, with the Restic's imagePullSecrets.
//   ServiceAccount and RoleBinding of the same name, owned by the Restic
//              likewise; the binding grants the ClusterRole
//              `stash-scaledown` in the Restic's namespace.
#pragma once

#include <string>

#include "base/result.h"
#include "kube/object.h"
#include "kube/resource.h"

namespace stash::op {

using kube::resources::kCronJobs;
inline constexpr char kScaledownClusterRole[] = "stash-scaledown";
inline constexpr char kScaledownOperationLabel[] = "scale-down";

struct ScaledownOptions {
  std::string image = "stash:0.1.0";
};

// stash-scaledown-cron-<restic>: the CronJob, its service account and its
// role binding.
std::string ScaledownCronJobName(const std::string& restic);

// Whether the Restic asks for the CronJob: spec.type offline, and the
// Restic is not being deleted.
bool WantsScaledownCronJob(const kube::Json& restic);

// spec.schedule as a CronJob's schedule: five fields and @descriptors as
// they are, six fields without the leading seconds. kInvalid naming the
// Restic when the schedule is empty or has another number of fields.
Result<std::string> CronJobSchedule(const kube::Json& restic);

// The CronJob, ServiceAccount and RoleBinding for `restic` (the object:
// its name, namespace, uid, spec.schedule, spec.paused and
// spec.imagePullSecrets are used). kInvalid as CronJobSchedule.
Result<std::string> ScaledownCronJobJson(const kube::Json& restic, const ScaledownOptions& options);
std::string ScaledownServiceAccountJson(const kube::Json& restic);
std::string ScaledownRoleBindingJson(const kube::Json& restic);

}  // namespace stash::op
