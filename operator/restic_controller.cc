#include "operator/restic_controller.h"

#include "operator/admission.h"
#include "operator/label_selector.h"
#include "operator/restic_match.h"
#include "operator/sidecar_rbac.h"
#include "operator/recovery_job.h"
#include "operator/v1beta1_objects.h"
#include "operator/v1beta1_sidecar.h"

namespace stash::op {
namespace {

bool IsControlledBy(const kube::Json& object, const std::string& uid) {
  const kube::Json* owners = kube::At(object, "/metadata/ownerReferences");
  if (!owners || !owners->IsArray()) return false;
  for (const auto& owner : owners->GetArray()) {
    if (kube::StringOf(owner, "uid") == uid) return true;
  }
  return false;
}

std::string WorkloadKey(const std::string& kind, const std::string& ns, const std::string& name) {
  return kind + "/" + ns + "/" + name;
}

// The scale-down CronJobs of offline Restics, by their labels.
kube::ListOptions ScaledownSelector() {
  kube::ListOptions o;
  o.label_selector = std::string("app=stash,operation=") + kScaledownOperationLabel;
  return o;
}

}  // namespace

ResticController::ResticController(kube::Client* client, kube::EventRecorder* events, SidecarOptions options,
                                   kube::LogFn log)
    : client_(client), events_(events), options_(std::move(options)), log_(log),
      restics_(client, kRestics, "", {}, log),
      backup_configurations_(client, kBackupConfigurations, "", {}, log),
      restore_sessions_(client, kRestoreSessions, "", {}, log),
      repositories_(client, kRepositories, "", {}, log),
      cronjobs_(client, kCronJobs, "", ScaledownSelector(), log) {
  kube::InformerHandlers on_restic;
  auto changed = [this](const kube::ObjectPtr& r) {
    EnqueueNamespace(kube::Namespace(*r));
    EnqueueRestic(kube::Namespace(*r), kube::Name(*r));
  };
  on_restic.on_add = changed;
  on_restic.on_update = [changed](const kube::ObjectPtr&, const kube::ObjectPtr& r) { changed(r); };
  on_restic.on_delete = changed;
  restics_.AddHandlers(on_restic);
  kube::InformerHandlers on_claim;
  on_claim.on_add = [this](const kube::ObjectPtr& o) { EnqueueTarget(o); };
  on_claim.on_update = [this](const kube::ObjectPtr& old, const kube::ObjectPtr& o) {
    EnqueueTarget(old);
    EnqueueTarget(o);
  };
  on_claim.on_delete = on_claim.on_add;
  backup_configurations_.AddHandlers(on_claim);
  restore_sessions_.AddHandlers(on_claim);
  kube::InformerHandlers on_repository;
  on_repository.on_add = [this](const kube::ObjectPtr& r) {
    for (auto* informer : {&backup_configurations_, &restore_sessions_}) {
      for (const auto& o : informer->List(kube::Namespace(*r))) {
        if (kube::StringAt(*o, "/spec/repository/name") == kube::Name(*r)) EnqueueTarget(o);
      }
    }
  };
  on_repository.on_update = [on_add = on_repository.on_add](const kube::ObjectPtr&, const kube::ObjectPtr& r) {
    on_add(r);
  };
  repositories_.AddHandlers(on_repository);
  kube::InformerHandlers on_cronjob;
  auto owner = [this](const kube::ObjectPtr& c) { EnqueueRestic(kube::Namespace(*c), kube::Labels(*c)["restic"]); };
  on_cronjob.on_add = owner;
  on_cronjob.on_update = [owner](const kube::ObjectPtr&, const kube::ObjectPtr& c) { owner(c); };
  on_cronjob.on_delete = owner;
  cronjobs_.AddHandlers(on_cronjob);
  for (const auto& resource : WorkloadResources()) {
    Kind k{resource, std::make_unique<kube::Informer>(client, resource, "", kube::ListOptions{}, log)};
    kube::InformerHandlers on_workload;
    std::string kind = resource.kind;
    on_workload.on_add = [this, kind](const kube::ObjectPtr& w) { EnqueueWorkload(kind, w); };
    on_workload.on_update = [this, kind](const kube::ObjectPtr&, const kube::ObjectPtr& w) {
      EnqueueWorkload(kind, w);
    };
    k.informer->AddHandlers(on_workload);
    kinds_.push_back(std::move(k));
  }
}

ResticController::~ResticController() { Stop(); }

Status ResticController::Start(std::chrono::milliseconds sync_timeout) {
  restics_.Start();
  backup_configurations_.Start();
  restore_sessions_.Start();
  repositories_.Start();
  cronjobs_.Start();
  for (auto& k : kinds_) k.informer->Start();
  if (!restics_.WaitForSync(sync_timeout)) return IOError("cannot list restics: " + restics_.problem());
  if (!cronjobs_.WaitForSync(sync_timeout)) return IOError("cannot list cronjobs: " + cronjobs_.problem());
  for (auto* informer : {&backup_configurations_, &restore_sessions_, &repositories_}) {
    if (!informer->WaitForSync(sync_timeout)) {
      return IOError("cannot list " + informer->resource().plural + ": " + informer->problem());
    }
  }
  for (auto& k : kinds_) {
    if (!k.informer->WaitForSync(sync_timeout)) {
      return IOError("cannot list " + k.resource.plural + ": " + k.informer->problem());
    }
  }
  worker_ = std::thread([this] { Work(); });
  return Status::Ok();
}

void ResticController::Stop() {
  queue_.ShutDown();
  if (worker_.joinable()) worker_.join();
  restics_.Stop();
  backup_configurations_.Stop();
  restore_sessions_.Stop();
  repositories_.Stop();
  cronjobs_.Stop();
  for (auto& k : kinds_) k.informer->Stop();
}

void ResticController::EnqueueWorkload(const std::string& kind, const kube::ObjectPtr& workload) {
  queue_.Add(WorkloadKey(kind, kube::Namespace(*workload), kube::Name(*workload)));
}

void ResticController::EnqueueTarget(const kube::ObjectPtr& object) {
  if (!object) return;
  std::string kind = kube::StringAt(*object, "/spec/target/ref/kind");
  std::string name = kube::StringAt(*object, "/spec/target/ref/name");
  if (IsWorkloadKind(kind) && !name.empty()) queue_.Add(WorkloadKey(kind, kube::Namespace(*object), name));
}

StashListers ResticController::Listers() const {
  StashListers l;
  l.restics = [this](const std::string& ns) { return restics_.List(ns); };
  l.backup_configurations = [this](const std::string& ns) { return backup_configurations_.List(ns); };
  l.restore_sessions = [this](const std::string& ns) { return restore_sessions_.List(ns); };
  l.repository = [this](const std::string& ns, const std::string& name) { return repositories_.Get(ns, name); };
  return l;
}

void ResticController::EnqueueNamespace(const std::string& ns) {
  for (const auto& k : kinds_) {
    for (const auto& w : k.informer->List(ns)) EnqueueWorkload(k.resource.kind, w);
  }
}

void ResticController::EnqueueRestic(const std::string& ns, const std::string& name) {
  if (!name.empty()) queue_.Add(WorkloadKey("Restic", ns, name));
}

const ResticController::Kind* ResticController::KindNamed(const std::string& name) const {
  for (const auto& k : kinds_) {
    if (k.resource.kind == name) return &k;
  }
  return nullptr;
}

void ResticController::Work() {
  kube::RunWorker(queue_, [this](const std::string& key) { return Reconcile(key); }, log_, "");
}

std::vector<kube::ObjectPtr> ResticController::SelectingRestics(const kube::Json& workload) {
  return op::SelectingRestics(restics_.List(kube::Namespace(workload)), workload,
                              [this](const kube::ObjectPtr& restic, const Error& e) {
                                events_->Warning(kube::ObjectReference::Of(*restic), "InvalidSelector", e.message());
                              });
}

bool ResticController::SelectsAnyWorkload(const kube::Json& restic) const {
  for (const auto& k : kinds_) {
    for (const auto& w : k.informer->List(kube::Namespace(restic))) {
      if (ControlledByDeployment(*w)) continue;
      auto matches = SelectorMatches(kube::At(restic, "/spec/selector"), kube::Labels(*w));
      if (matches.ok() && *matches) return true;
    }
  }
  return false;
}

Status ResticController::ReconcileRestic(const std::string& ns_name) {
  auto [ns, name] = kube::SplitKey(ns_name);
  kube::ObjectPtr restic = restics_.Get(ns, name);
  // One the validating webhook did not see (the operator was down): say
  // why its sidecars will not back up, on the Restic.
  if (Status valid = restic ? CheckRestic(*restic) : Status::Ok(); !valid.ok()) {
    events_->Warning(kube::ObjectReference::Of(*restic), "InvalidRestic", valid.error().message());
  } else if (restic && !kube::BeingDeleted(*restic) && !SelectsAnyWorkload(*restic)) {
    events_->Warning(kube::ObjectReference::Of(*restic), "NoWorkloadSelected",
                     "spec.selector matches no Deployment, StatefulSet, DaemonSet, ReplicaSet or "
                     "ReplicationController in namespace " + ns + ": nothing is backed up yet");
  }
  ScaledownTarget target{ns, name, restic, cronjobs_.Get(ns, ScaledownCronJobName(name))};
  return ReconcileScaledown(*client_, *events_, target, ScaledownOptions{options_.image}, log_);
}

Status ResticController::Reconcile(const std::string& key) {
  if (key.starts_with("Restic/")) return ReconcileRestic(key.substr(7));
  size_t slash = key.find('/');
  const Kind* kind = slash == std::string::npos ? nullptr : KindNamed(key.substr(0, slash));
  if (!kind) return Invalid("unknown workload key " + key);
  auto [ns, name] = kube::SplitKey(key.substr(slash + 1));
  kube::ObjectPtr workload = kind->informer->Get(ns, name);
  if (!workload || kube::BeingDeleted(*workload) || ControlledByDeployment(*workload)) return Status::Ok();
  StashListers listers = Listers();
  WorkloadClaims claims = ClaimsOn(listers, *workload, kind->resource.kind,
                                   [this](const kube::ObjectPtr& restic, const Error& e) {
                                     events_->Warning(kube::ObjectReference::Of(*restic), "InvalidSelector", e.message());
                                   });
  const auto& restics = claims.restics;
  const auto& bcs = claims.backup_configurations;
  const auto& restores = claims.restore_sessions;
  std::vector<std::string> warnings;
  // Only a sidecar we added (it carries our annotation) is ever taken out.
  bool ours = kube::Annotations(*workload).count(kLastAppliedAnnotation) > 0 ||
              !AppliedBackupConfiguration(*workload).empty() || !AppliedRestoreSession(*workload).empty();
  if (restics.empty() && bcs.empty() && restores.empty() && !ours) return Status::Ok();
  Error failure = Invalid("");
  bool failed = false, changed = false;
  auto written = client_->Modify(kind->resource, ns, name, [&](rapidjson::Document& w) {
    warnings.clear();
    auto injected = ApplyClaims(w, kind->resource.kind, claims, listers, options_, &warnings);
    if (!injected.ok()) {
      failure = injected.error();
      failed = true;
      return false;
    }
    return changed = *injected;
  });
  for (const auto& w : warnings) {
    bool restic_only = bcs.empty() && w.find("no stash sidecar") != std::string::npos;
    events_->Warning(kube::ObjectReference::Of(*workload),
                     restic_only ? "MultipleResticsMatched" : "MultipleStashObjectsMatched", w);
  }
  if (failed) {
    events_->Warning(kube::ObjectReference::Of(*workload), "FailedToInjectSidecar", failure.message());
    for (const auto& o : bcs.size() == 1 ? bcs : restores) {
      events_->Warning(kube::ObjectReference::Of(*o), "FailedToInjectSidecar", failure.message());
    }
    return Status::Ok();  // the workload itself must change first
  }
  if (!written.ok() && written.error().kind() == ErrorKind::kInvalid) {
    // The server refused the result (422): retrying cannot help until the
    // Restic or the workload changes, which enqueues it again.
    events_->Warning(kube::ObjectReference::Of(*workload), "FailedToInjectSidecar", written.error().message());
    return Status::Ok();
  }
  if (!written.ok()) return written.error();
  const bool restic_sidecar = restics.size() == 1 && bcs.empty();
  const bool bc_sidecar = bcs.size() == 1 && restics.empty();
  const bool restore_init = restores.size() == 1;
  // Before the pods restart, so their sidecar may use the API at once.
  if (restic_sidecar) STASH_RETURN_IF_ERROR(EnsureSidecarRoleBinding(*client_, kind->resource.kind, **written));
  if (bc_sidecar || restore_init) {
    STASH_RETURN_IF_ERROR(EnsureSidecarRoleBinding(*client_, kind->resource.kind, **written, kV1beta1AgentClusterRole));
  }
  if (changed) {
    std::string what;
    if (restic_sidecar) what = "stash sidecar of Restic " + kube::Name(*restics.front());
    if (bc_sidecar) what = "stash sidecar of BackupConfiguration " + kube::Name(*bcs.front());
    if (restore_init) what += (what.empty() ? "" : " and ") + std::string("stash-init of RestoreSession ") +
                              kube::Name(*restores.front());
    bool added = !what.empty();
    events_->Normal(kube::ObjectReference::Of(**written), added ? "SidecarInjected" : "SidecarRemoved",
                    added ? what + " added" : "stash sidecar removed");
    for (const auto& o : bc_sidecar ? bcs : std::vector<kube::ObjectPtr>{}) {
      events_->Normal(kube::ObjectReference::Of(*o), "SidecarInjected", what + " added to " + key);
    }
    if (log_) log_((added ? "injected " + what + " into " : "removed the sidecar from ") + key);
    if (NeedsPodRestart(kind->resource.kind)) return RestartPods(**written);
  }
  return Status::Ok();
}

// Deletes the pods `workload` controls, so that it makes new ones from the
// changed template (as 0.8.3 did for ReplicaSets and ReplicationControllers).
Status ResticController::RestartPods(const kube::Json& workload) {
  std::string uid = kube::StringAt(workload, "/metadata/uid");
  auto pods = client_->List(kube::resources::kPods, kube::Namespace(workload));
  if (!pods.ok()) return pods.error().Wrap("restarting the pods of " + kube::Name(workload));
  size_t deleted = 0;
  for (const auto& pod : pods->items) {
    if (!IsControlledBy(*pod, uid) || kube::BeingDeleted(*pod)) continue;
    Status s = client_->Delete(kube::resources::kPods, kube::Namespace(*pod), kube::Name(*pod));
    if (!s.ok()) return s.error().Wrap("deleting pod " + kube::Name(*pod));
    ++deleted;
  }
  if (deleted) {
    events_->Normal(kube::ObjectReference::Of(workload), "PodsRestarted",
                    std::to_string(deleted) + " pod(s) deleted so they restart with the changed template");
  }
  return Status::Ok();
}

}  // namespace stash::op
