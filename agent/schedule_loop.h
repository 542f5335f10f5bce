// The sidecar's clock: backup sessions on the Restic's schedule and the
// check Job renewed every three days, for as long as this pod should back
// up (until `stop`, or until it loses the leader election).
//
// The Restic is watched (an informer on that one object), so a changed
// schedule takes effect at once, as 0.8.3 re-configured its cron entry. A
// session runs on this thread; a session that overruns the next firing
// skips it (0.8.3 skipped a firing while the previous session still held
// its lock). A schedule that cannot be parsed or never fires is one
// FailedCronJob Event per text; a missing Restic one FailedSetup Event on
// the pod; either way the loop waits for the Restic to change.
#pragma once

#include <atomic>

#include "agent/backup_session.h"

namespace stash::agent {

void RunScheduleLoop(const AgentContext& ctx, const std::atomic<bool>& stop);

}  // namespace stash::agent
