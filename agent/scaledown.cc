#include "agent/scaledown.h"

#include <rapidjson/pointer.h>

#include <algorithm>
#include <functional>
#include <thread>

#include "agent/backup_session.h"

namespace stash::agent {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kLastApplied[] = "restic.appscode.com/last-applied-configuration";


std::string Named(const kube::Resource& r, const kube::Json& w) { return r.kind + " " + kube::KeyOf(w); }

int64_t IntAt(const kube::Json& object, const char* pointer, int64_t fallback) {
  const kube::Json* v = kube::At(object, pointer);
  return v && v->IsInt64() ? v->GetInt64() : fallback;
}

// Restarts the workloads of one Restic, one at a time.
class Restarter {
 public:
  Restarter(kube::Client& client, kube::EventRecorder& events, const ScaledownOptions& options,
            const kube::LogFn& log)
      : client_(client), events_(events), options_(options), log_(log) {}

  Status Restart(const kube::Resource& r, const kube::Json& workload) {
    return RestartsByScaling(r.kind) ? ScaleCycle(r, workload) : DeletePods(r, workload);
  }

 private:
  void Log(const std::string& line) const {
    if (log_) log_(line);
  }

  // The pods the workload controls; a Deployment's through its ReplicaSets.
  Result<std::vector<kube::ObjectPtr>> PodsOf(const kube::Resource& r, const kube::Json& w) {
    std::vector<std::string> owners = {kube::Uid(w)};
    if (r.kind == "Deployment") {
      auto sets = client_.List(kube::resources::kReplicaSets, kube::Namespace(w));
      if (!sets.ok()) return sets.error();
      for (const auto& rs : sets->items) {
        if (ControlledByAny(*rs, {kube::Uid(w)})) owners.push_back(kube::Uid(*rs));
      }
    }
    auto pods = client_.List(kube::resources::kPods, kube::Namespace(w));
    if (!pods.ok()) return pods.error();
    std::vector<kube::ObjectPtr> out;
    for (const auto& p : pods->items) {
      if (ControlledByAny(*p, owners)) out.push_back(p);
    }
    return out;
  }

  Result<size_t> ReadyPods(const kube::Resource& r, const kube::Json& w) {
    auto pods = PodsOf(r, w);
    if (!pods.ok()) return pods.error();
    return static_cast<size_t>(std::count_if(pods->begin(), pods->end(), [](const auto& p) { return PodReady(*p); }));
  }

  // Polls `done` until it says true; kIO naming `what` once the bound passes.
  Status WaitFor(const std::string& what, const std::function<Result<bool>()>& done) {
    const auto deadline = Clock::now() + options_.wait_timeout;
    std::string last_error;
    for (;;) {
      auto r = done();
      if (r.ok() && *r) return Status::Ok();
      if (!r.ok()) last_error = r.error().message();
      if (Clock::now() >= deadline) {
        return IOError("timed out after " + std::to_string(options_.wait_timeout.count()) + " s waiting for " + what +
                       (last_error.empty() ? "" : " (last error: " + last_error + ")"));
      }
      std::this_thread::sleep_for(options_.poll_interval);
    }
  }

  Status Scale(const kube::Resource& r, const kube::Json& w, int64_t replicas, int64_t keep_original) {
    auto written = client_.Modify(r, kube::Namespace(w), kube::Name(w), [&](rapidjson::Document& doc) {
      return SetReplicas(doc, replicas, keep_original);
    });
    if (!written.ok()) return written.error().Wrap("scaling " + Named(r, w) + " to " + std::to_string(replicas));
    return Status::Ok();
  }

  // Scales to 0 with the count recorded in old-replica (kept from an
  // interrupted run); returns the count, 0 leaving the workload alone.
  Result<int64_t> ScaleToZero(const kube::Resource& r, const kube::Json& w) {
    int64_t original = -1;
    Error failure = Invalid("");
    auto written = client_.Modify(r, kube::Namespace(w), kube::Name(w), [&](rapidjson::Document& doc) {
      auto count = OriginalReplicas(doc);
      if (!count.ok()) {
        failure = count.error();
        return false;
      }
      original = *count;
      return original > 0 && SetReplicas(doc, 0, original);
    });
    if (!written.ok()) return written.error().Wrap("scaling " + Named(r, w) + " to 0");
    if (original < 0) return failure;
    return original;
  }

  // A condition for WaitFor: at least `n` pods of the workload ready.
  std::function<Result<bool>()> ReadyAtLeast(const kube::Resource& r, const kube::Json& w, size_t n) {
    return [this, &r, &w, n]() -> Result<bool> {
      auto ready = ReadyPods(r, w);
      if (!ready.ok()) return ready.error();
      return *ready >= n;
    };
  }

  // With the workload at 0: no pod left, then one replica, which backs up
  // in its init container before it becomes ready.
  Status BackUpWithOneReplica(const kube::Resource& r, const kube::Json& w, int64_t original) {
    const std::string who = Named(r, w);
    Log(who + ": scaled from " + std::to_string(original) + " to 0, waiting for its pods to go");
    STASH_RETURN_IF_ERROR(WaitFor("the pods of " + who + " to go", [&]() -> Result<bool> {
      auto pods = PodsOf(r, w);
      if (!pods.ok()) return pods.error();
      return pods->empty();
    }));
    STASH_RETURN_IF_ERROR(Scale(r, w, 1, original));
    Log(who + ": scaled to 1, waiting for that replica to back up in its init container and become ready");
    Status ready = WaitFor("the single replica of " + who + " to become ready (its init container backs up first)",
                           ReadyAtLeast(r, w, 1));
    if (ready.ok()) return ready;
    return Error(ready.error().kind(), ready.error().message() + PodTrouble(r, w));
  }

  // "; pod P: init container stash ..." for each pod that says why it is
  // not ready, so the error shows where to look.
  std::string PodTrouble(const kube::Resource& r, const kube::Json& w) {
    auto pods = PodsOf(r, w);
    std::string out;
    for (size_t i = 0; pods.ok() && i < pods->size(); ++i) {
      std::string why = InitContainerTrouble(*(*pods)[i]);
      if (!why.empty()) out += "; pod " + kube::Name(*(*pods)[i]) + ": " + why;
    }
    return out;
  }

  Status ScaleCycle(const kube::Resource& r, const kube::Json& w) {
    const std::string who = Named(r, w);
    auto original = ScaleToZero(r, w);
    if (!original.ok()) return original.error();
    if (*original == 0) {
      Log(who + " has 0 replicas: no pod runs, so none backs up");
      return Scale(r, w, 0, -1);  // an interrupted run may have left old-replica: 0
    }
    const std::string n = std::to_string(*original);
    events_.Normal(kube::ObjectReference::Of(w), "ScaledDown",
                   "scaled down from " + n + " replicas to 0 for an offline backup (Restic " + options_.restic_name + ")");
    Status backed_up = BackUpWithOneReplica(r, w, *original);
    // Whatever happened, the workload gets its replicas back.
    Status restored = Scale(r, w, *original, -1);
    if (!restored.ok()) return restored.error().Wrap("the count " + n + " stays in annotation old-replica");
    events_.Normal(kube::ObjectReference::Of(w), "ScaledUp", "scaled back up to " + n + " replicas after the offline backup");
    Log(who + ": scaled back to " + n);
    if (!backed_up.ok()) {
      return Error(backed_up.error().kind(), backed_up.error().message() + "; " + who + " is back at " + n + " replicas");
    }
    return WaitFor(n + " ready replicas of " + who, ReadyAtLeast(r, w, static_cast<size_t>(*original)));
  }

  // What a StatefulSet or DaemonSet wants running now.
  Result<size_t> Desired(const kube::Resource& r, const kube::Json& w) {
    auto now = client_.Get(r, kube::Namespace(w), kube::Name(w));
    if (!now.ok()) return now.error();
    if (r.kind == "DaemonSet") return static_cast<size_t>(IntAt(**now, "/status/desiredNumberScheduled", 0));
    return static_cast<size_t>(IntAt(**now, "/spec/replicas", 1));
  }

  Status DeletePods(const kube::Resource& r, const kube::Json& w) {
    const std::string who = Named(r, w);
    auto pods = PodsOf(r, w);
    if (!pods.ok()) return pods.error().Wrap("listing the pods of " + who);
    std::vector<std::string> old;
    for (const auto& p : *pods) {
      Status s = client_.Delete(kube::resources::kPods, kube::Namespace(*p), kube::Name(*p), kube::Uid(*p));
      if (!s.ok()) return s.error().Wrap(who + ": deleting pod " + kube::Name(*p));
      old.push_back(kube::Uid(*p));
    }
    events_.Normal(kube::ObjectReference::Of(w), "Restarted",
                   std::to_string(old.size()) + " pod(s) deleted so that each backs up in its init container as it " +
                       "starts again (Restic " + options_.restic_name + ")");
    Log(who + ": deleted " + std::to_string(old.size()) + " pod(s), waiting for their successors to be ready");
    return WaitFor("the pods of " + who + " to be replaced and ready", [&]() -> Result<bool> {
      auto now = PodsOf(r, w);
      if (!now.ok()) return now.error();
      size_t ready = 0;
      for (const auto& p : *now) {
        if (std::find(old.begin(), old.end(), kube::Uid(*p)) != old.end()) return false;
        ready += PodReady(*p);
      }
      auto desired = Desired(r, w);
      if (!desired.ok()) return desired.error();
      return ready >= *desired;
    });
  }

  kube::Client& client_;
  kube::EventRecorder& events_;
  const ScaledownOptions& options_;
  const kube::LogFn& log_;
};

// The Restic, checked: it exists and is offline. False when it is paused.
Result<bool> ResticWantsRestart(kube::Client& client, const ScaledownOptions& o) {
  const std::string named = "Restic " + o.ns + "/" + o.restic_name;
  auto restic = client.Get(kRestics, o.ns, o.restic_name);
  if (!restic.ok() && restic.error().kind() == ErrorKind::kNotFound) return NotFound(named + " not found");
  if (!restic.ok()) return restic.error().Wrap(named);
  std::string type = kube::StringAt(**restic, "/spec/type");
  if (type != "offline") {
    return Invalid(named + " is not offline (spec.type \"" + (type.empty() ? "online" : type) +
                   "\"): its sidecar backs up on its own schedule, there is nothing to restart");
  }
  const kube::Json* paused = kube::At(**restic, "/spec/paused");
  return !(paused && paused->IsTrue());
}

}  // namespace

bool CarriesSidecarOf(const kube::Json& workload, const std::string& restic) {
  auto annotations = kube::Annotations(workload);
  auto it = annotations.find(kLastApplied);
  if (it == annotations.end()) return false;
  auto applied = kube::ParseObject(it->second, "annotation");
  return applied.ok() && kube::Name(**applied) == restic;
}

bool RestartsByScaling(const std::string& kind) {
  return kind == "Deployment" || kind == "ReplicaSet" || kind == "ReplicationController";
}

Result<int64_t> OriginalReplicas(const kube::Json& workload) {
  auto annotations = kube::Annotations(workload);
  auto it = annotations.find(kOldReplicaAnnotation);
  if (it == annotations.end()) return IntAt(workload, "/spec/replicas", 1);
  const std::string& text = it->second;
  bool digits = !text.empty() && text.size() <= 9 &&
                std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) {
    return Invalid(kube::KeyOf(workload) + ": annotation " + kOldReplicaAnnotation + " is \"" + text +
                   "\", not a replica count; set it to the count to restore, or remove it");
  }
  return std::stoll(text);
}

bool SetReplicas(rapidjson::Document& workload, int64_t replicas, int64_t keep_original) {
  std::string before = kube::ToJson(workload);
  rapidjson::Pointer("/spec/replicas").Set(workload, replicas);
  if (keep_original >= 0) {
    rapidjson::Pointer("/metadata/annotations/old-replica")
        .Set(workload, std::to_string(keep_original).c_str(), workload.GetAllocator());
  } else if (auto* annotations = rapidjson::Pointer("/metadata/annotations").Get(workload);
             annotations && annotations->IsObject()) {
    annotations->RemoveMember(kOldReplicaAnnotation);
  }
  return kube::ToJson(workload) != before;
}

bool PodReady(const kube::Json& pod) {
  if (kube::BeingDeleted(pod) || kube::StringAt(pod, "/status/phase") != "Running") return false;
  const kube::Json* conditions = kube::At(pod, "/status/conditions");
  if (!conditions || !conditions->IsArray()) return false;
  for (const auto& c : conditions->GetArray()) {
    if (c.IsObject() && kube::StringOf(c, "type") == "Ready") return kube::StringOf(c, "status") == "True";
  }
  return false;
}

std::string InitContainerTrouble(const kube::Json& pod) {
  const kube::Json* statuses = kube::At(pod, "/status/initContainerStatuses");
  if (!statuses || !statuses->IsArray()) return "";
  for (const auto& c : statuses->GetArray()) {
    if (!c.IsObject()) continue;
    const kube::Json* now = kube::At(c, "/state/terminated");
    if (now && IntAt(*now, "/exitCode", 0) == 0) continue;  // done, and well
    // The run that failed: this one, or the one before a restart.
    const kube::Json* failed = now ? now : kube::At(c, "/lastState/terminated");
    if (!failed || !failed->IsObject() || IntAt(*failed, "/exitCode", 0) == 0) continue;
    return "init container " + kube::StringOf(c, "name") + " exited " + std::to_string(IntAt(*failed, "/exitCode", 0)) +
           ", restarted " + std::to_string(IntAt(c, "/restartCount", 0)) + " time(s)";
  }
  return "";
}

bool ControlledByDeployment(const kube::Json& workload) {
  const kube::Json* owners = kube::At(workload, "/metadata/ownerReferences");
  if (!owners || !owners->IsArray()) return false;
  for (const auto& o : owners->GetArray()) {
    const kube::Json* controller = kube::At(o, "/controller");
    if (controller && controller->IsTrue() && kube::StringOf(o, "kind") == "Deployment") return true;
  }
  return false;
}

bool ControlledByAny(const kube::Json& object, const std::vector<std::string>& uids) {
  const kube::Json* owners = kube::At(object, "/metadata/ownerReferences");
  if (!owners || !owners->IsArray()) return false;
  for (const auto& o : owners->GetArray()) {
    const kube::Json* controller = kube::At(o, "/controller");
    if (!controller || !controller->IsTrue()) continue;
    if (std::find(uids.begin(), uids.end(), kube::StringOf(o, "uid")) != uids.end()) return true;
  }
  return false;
}

Status RunScaledown(kube::Client& client, kube::EventRecorder& events, const ScaledownOptions& options,
                    const kube::LogFn& log) {
  auto wanted = ResticWantsRestart(client, options);
  if (!wanted.ok()) return wanted.error();
  const std::string named = "Restic " + options.ns + "/" + options.restic_name;
  if (!*wanted) {
    if (log) log(named + " is paused: no workload restarted");
    return Status::Ok();
  }
  Restarter restarter(client, events, options, log);
  std::string failures;
  size_t found = 0;
  for (const auto& r : kube::resources::WorkloadResources()) {
    auto list = client.List(r, options.ns);
    if (!list.ok()) return list.error().Wrap("listing " + r.plural + " of " + options.ns);
    for (const auto& w : list->items) {
      if (!CarriesSidecarOf(*w, options.restic_name) || kube::BeingDeleted(*w) || ControlledByDeployment(*w)) continue;
      ++found;
      Status s = restarter.Restart(r, *w);
      if (s.ok()) continue;
      events.Warning(kube::ObjectReference::Of(*w), "FailedToRestart", s.error().message());
      if (log) log(s.error().message());
      failures += (failures.empty() ? "" : "; ") + s.error().message();
    }
  }
  if (!failures.empty()) return IOError(failures);
  if (log) log(named + ": " + std::to_string(found) + " workload(s) restarted" + (found ? "" : " (none carries its init container)"));
  return Status::Ok();
}

}  // namespace stash::agent
