// What the check Job runs: `stash check --restic-name=R --host-name=H
// --smart-prefix=P` checks the repository of one host of a Restic, as
// `stash check` (without --read-data) checks a repository: index, packs,
// snapshots and trees. A repository that does not exist yet is an error,
// never created here. Problems are a Warning Event FailedToCheck on the
// Restic, as 0.8.3 reported a failed check.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "kube/client.h"
#include "kube/events.h"

namespace stash::agent {

struct ResticCheckOptions {
  std::string ns, restic_name;
  std::string host, smart_prefix;
};

struct ResticCheckResult {
  std::string location;
  std::vector<std::string> errors, notes;
};

// Errors reaching the repository come back as an Error; what the check
// found is in the result (no errors: the repository is sound). Either way
// a failure is also an Event.
Result<ResticCheckResult> CheckResticRepository(kube::Client& client, kube::EventRecorder& events,
                                                const ResticCheckOptions& options);

}  // namespace stash::agent
