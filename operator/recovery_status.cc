#include "operator/recovery_status.h"

#include "base/json_out.h"

namespace stash::op {
namespace {

constexpr size_t kMaxDetail = 512;

int64_t IntAt(const kube::Json& object, const char* pointer) {
  const kube::Json* v = kube::At(object, pointer);
  return v && v->IsInt64() ? v->GetInt64() : 0;
}

// The condition's reason and message, "BackoffLimitExceeded: Job has
// reached the specified backoff limit".
std::string ConditionText(const kube::Json& job, const char* type) {
  const kube::Json* conditions = kube::At(job, "/status/conditions");
  if (!conditions || !conditions->IsArray()) return "";
  for (const auto& c : conditions->GetArray()) {
    if (!c.IsObject() || kube::StringOf(c, "type") != type) continue;
    std::string reason = kube::StringOf(c, "reason"), message = kube::StringOf(c, "message");
    if (reason.empty()) return message;
    return message.empty() ? reason : reason + ": " + message;
  }
  return "";
}

std::string LastLine(const std::string& text) {
  size_t end = text.find_last_not_of(" \t\r\n");
  if (end == std::string::npos) return "";
  size_t newline = text.find_last_of('\n', end);
  size_t from = newline == std::string::npos ? 0 : newline + 1;
  std::string line = text.substr(from, end + 1 - from);
  if (line.size() > kMaxDetail) line = line.substr(0, kMaxDetail) + "...";
  return line;
}

// The termination message of the pod's `stash` container, from its current
// or last state.
std::string TerminationMessage(const kube::Json& pod) {
  const kube::Json* statuses = kube::At(pod, "/status/containerStatuses");
  if (!statuses || !statuses->IsArray()) return "";
  for (const auto& s : statuses->GetArray()) {
    if (!s.IsObject() || kube::StringOf(s, "name") != "stash") continue;
    for (const char* state : {"/state/terminated", "/lastState/terminated"}) {
      const kube::Json* t = kube::At(s, state);
      if (!t || !t->IsObject()) continue;
      const kube::Json* code = kube::At(*t, "/exitCode");
      if (code && code->IsInt() && code->GetInt() != 0) return LastLine(kube::StringOf(*t, "message"));
    }
  }
  return "";
}

// A pod of the Job is ready, or one has already finished (its count can
// lag behind the pod's end, so every sign of it counts).
bool Started(const kube::Json& job) {
  if (IntAt(job, "/status/ready") > 0 || IntAt(job, "/status/succeeded") > 0 || IntAt(job, "/status/failed") > 0) {
    return true;
  }
  for (const char* uncounted :
       {"/status/uncountedTerminatedPods/succeeded", "/status/uncountedTerminatedPods/failed"}) {
    const kube::Json* uids = kube::At(job, uncounted);
    if (uids && uids->IsArray() && !uids->Empty()) return true;
  }
  return JobHasCondition(job, "SuccessCriteriaMet") || JobHasCondition(job, "FailureTarget");
}

}  // namespace

RecoveryStatus CurrentStatus(const kube::Json& recovery) {
  return {kube::StringAt(recovery, "/status/phase"), kube::StringAt(recovery, "/status/reason"),
          kube::StringAt(recovery, "/status/message")};
}

int64_t ObservedGeneration(const kube::Json& recovery) { return IntAt(recovery, "/status/observedGeneration"); }

bool Finished(const RecoveryStatus& status) { return status.phase == "Succeeded" || status.phase == "Failed"; }

bool JobHasCondition(const kube::Json& job, const char* type) {
  const kube::Json* conditions = kube::At(job, "/status/conditions");
  if (!conditions || !conditions->IsArray()) return false;
  for (const auto& c : conditions->GetArray()) {
    if (c.IsObject() && kube::StringOf(c, "type") == type && kube::StringOf(c, "status") == "True") return true;
  }
  return false;
}

RecoveryStatus StatusFromJob(const kube::Json& job, const std::string& failure_detail) {
  const std::string name = kube::Name(job);
  if (JobHasCondition(job, "Complete")) return {"Succeeded", kReasonSucceeded, "Recovery job " + name + " succeeded"};
  if (JobHasCondition(job, "Failed")) {
    std::string message = "Recovery job " + name + " failed";
    std::string why = ConditionText(job, "Failed");
    if (!why.empty()) message += " (" + why + ")";
    if (!failure_detail.empty()) message += ": " + failure_detail;
    return {"Failed", kReasonFailed, message};
  }
  if (Started(job)) return {"Running", kReasonJobRunning, "Recovery job " + name + " is running"};
  return {"Pending", kReasonJobCreated, "Recovery job " + name + " created"};
}

std::string FailureDetail(const std::vector<kube::ObjectPtr>& pods) {
  std::string newest_time, detail;
  for (const auto& pod : pods) {
    std::string message = TerminationMessage(*pod);
    std::string created = kube::StringAt(*pod, "/metadata/creationTimestamp");
    if (!message.empty() && (detail.empty() || created >= newest_time)) {
      newest_time = created;
      detail = message;
    }
  }
  return detail;
}

const char* EventType(const RecoveryStatus& status) { return status.phase == "Failed" ? "Warning" : "Normal"; }

std::string StatusPatch(const RecoveryStatus& status, int64_t generation) {
  JsonOut j;
  j.Open().Key("status").Open().Field("phase", status.phase).Field("reason", status.reason)
      .Field("message", status.message).FieldInt("observedGeneration", generation).Close().Close();
  return j.Take();
}

}  // namespace stash::op
