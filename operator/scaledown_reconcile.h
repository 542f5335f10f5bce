// Keeps the scale-down CronJob of one Restic (scaledown_cronjob.h) as the
// Restic asks, level-triggered: called with whatever the Restic is now.
//
// - An offline Restic: its ServiceAccount, RoleBinding and CronJob are
//   server-side applied (as the field manager "stash-operator"), in that
//   order so the first Job finds its account; applying what is already
//   there changes nothing. A schedule that cannot become a CronJob's, or a
//   CronJob the server refuses (422: a Restic name too long for it), is a
//   Warning Event `FailedCronJob` on the Restic and no retry: the Restic
//   must change first.
// - An online Restic, or none (deleted; the garbage collector also removes
//   what it owned): the three are deleted, the CronJob last, so that a
//   CronJob missing from `existing` means there is nothing left to delete.
#pragma once

#include <string>

#include "kube/client.h"
#include "kube/events.h"
#include "operator/scaledown_cronjob.h"

namespace stash::op {

struct ScaledownTarget {
  std::string ns, name;        // the Restic's
  kube::ObjectPtr restic;      // nullptr when it is gone
  kube::ObjectPtr existing;    // the CronJob as last seen, nullptr when none
};

Status ReconcileScaledown(kube::Client& client, kube::EventRecorder& events, const ScaledownTarget& target,
                          const ScaledownOptions& options, const kube::LogFn& log);

}  // namespace stash::op
