// What a Recovery's status should say, as pure functions of its Job (and,
// once the Job failed, of its pods), and the patch that writes it.
//
// status.phase follows the Job: Pending once it is created, Running once
// one of its pods is ready (or has already finished), Succeeded when it
// completes, Failed when it fails. status.reason and status.message (ours; 0.8.3 had only the phase)
// say why, with the same words as the Event recorded for the change:
//
//   phase      reason                      Event
//   Pending    RecoveryJobCreated          Normal
//   Running    RecoveryJobRunning          Normal
//   Succeeded  SuccessfulRecovery          Normal
//   Failed     FailedRecovery              Warning (the Job failed)
//   Failed     InvalidRecovery             Warning (bad input: no Job was made)
//   Failed     RecoveryJobFailedToCreate   Warning (the server refused the Job)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kube/object.h"

namespace stash::op {

struct RecoveryStatus {
  std::string phase, reason, message;
  bool operator==(const RecoveryStatus&) const = default;
};

inline constexpr char kReasonJobCreated[] = "RecoveryJobCreated";
inline constexpr char kReasonJobRunning[] = "RecoveryJobRunning";
inline constexpr char kReasonSucceeded[] = "SuccessfulRecovery";
inline constexpr char kReasonFailed[] = "FailedRecovery";
inline constexpr char kReasonInvalid[] = "InvalidRecovery";
inline constexpr char kReasonJobFailedToCreate[] = "RecoveryJobFailedToCreate";

// status.phase/reason/message of a Recovery object.
RecoveryStatus CurrentStatus(const kube::Json& recovery);
// status.observedGeneration (0 when unset or not a number).
int64_t ObservedGeneration(const kube::Json& recovery);
// Succeeded or Failed: nothing more happens unless the spec changes.
bool Finished(const RecoveryStatus& status);

// Whether the Job has the condition `type` ("Complete", "Failed") True.
bool JobHasCondition(const kube::Json& job, const char* type);

// The status the Job's state calls for. `failure_detail` is why its pod
// failed (FailureDetail), used when the Job failed.
RecoveryStatus StatusFromJob(const kube::Json& job, const std::string& failure_detail);

// The last line the `stash` container of the newest failed pod left as its
// termination message ("" when none did).
std::string FailureDetail(const std::vector<kube::ObjectPtr>& pods);

// "Normal" or "Warning", for the Event of a change to `status`.
const char* EventType(const RecoveryStatus& status);

// The merge patch of the status subresource: phase, reason, message and
// observedGeneration.
std::string StatusPatch(const RecoveryStatus& status, int64_t generation);

}  // namespace stash::op
