#include "operator/v1beta1_controller.h"

#include <rapidjson/pointer.h>

#include <algorithm>
#include <map>

#include "base/json_out.h"
#include "base/json_util.h"
#include "operator/recovery_job.h"
#include "operator/scaledown_cronjob.h"
#include "operator/sidecar.h"
#include "operator/v1beta1_objects.h"
#include "operator/v1beta1_sidecar.h"
#include "stashapi/v1beta1_spec.h"
#include "stashapi/v1beta1_task.h"

namespace stash::op {
namespace {

kube::ListOptions Ours() {
  kube::ListOptions o;
  o.label_selector = std::string(kManagedByLabel) + "=" + kManagedBy;
  return o;
}

const kube::Resource* WorkloadResource(const std::string& kind) {
  for (const auto& r : WorkloadResources()) {
    if (r.kind == kind) return &r;
  }
  return nullptr;
}

bool HasFinalizer(const kube::Json& object) {
  const kube::Json* f = kube::At(object, "/metadata/finalizers");
  if (!f || !f->IsArray()) return false;
  for (const auto& v : f->GetArray()) {
    if (v.IsString() && std::string(v.GetString()) == kStashFinalizer) return true;
  }
  return false;
}

// The owner of a Job of ours: "BS/ns/name" or "RS/ns/name".
std::string OwnerKey(const kube::Json& job) {
  const kube::Json* owners = kube::At(job, "/metadata/ownerReferences");
  if (!owners || !owners->IsArray()) return "";
  for (const auto& o : owners->GetArray()) {
    std::string kind = kube::StringOf(o, "kind");
    if (kind == "BackupSession") return "BS/" + kube::Namespace(job) + "/" + kube::StringOf(o, "name");
    if (kind == "RestoreSession") return "RS/" + kube::Namespace(job) + "/" + kube::StringOf(o, "name");
  }
  return "";
}

const char* Kind(bool backup) { return backup ? "BackupSession" : "RestoreSession"; }

}  // namespace

V1beta1Controller::V1beta1Controller(kube::Client* client, kube::EventRecorder* events, V1beta1Options options,
                                     kube::LogFn log)
    : client_(client), events_(events), options_(std::move(options)), log_(log),
      backup_configurations_(client, kBackupConfigurations, "", {}, log),
      backup_sessions_(client, kBackupSessions, "", {}, log),
      restore_sessions_(client, kRestoreSessions, "", {}, log),
      jobs_(client, kJobs, "", Ours(), log),
      cronjobs_(client, kCronJobs, "", Ours(), log),
      templates_(client, kBackupConfigurationTemplates, "", {}, log) {
  auto handlers = [](std::function<void(const kube::ObjectPtr&)> on) {
    kube::InformerHandlers h;
    h.on_add = on;
    h.on_update = [on](const kube::ObjectPtr&, const kube::ObjectPtr& o) { on(o); };
    h.on_delete = on;
    return h;
  };
  backup_configurations_.AddHandlers(handlers([this](const kube::ObjectPtr& o) {
    queue_.Add("BC/" + kube::KeyOf(*o));
  }));
  backup_sessions_.AddHandlers(handlers([this](const kube::ObjectPtr& o) { queue_.Add("BS/" + kube::KeyOf(*o)); }));
  restore_sessions_.AddHandlers(handlers([this](const kube::ObjectPtr& o) { queue_.Add("RS/" + kube::KeyOf(*o)); }));
  jobs_.AddHandlers(handlers([this](const kube::ObjectPtr& o) {
    if (std::string key = OwnerKey(*o); !key.empty()) queue_.Add(key);
  }));
  cronjobs_.AddHandlers(handlers([this](const kube::ObjectPtr& o) {
    std::string bc = kube::Labels(*o)[kBackupConfigurationLabel];
    if (!bc.empty()) queue_.Add("BC/" + kube::Namespace(*o) + "/" + bc);
  }));
  for (const auto& r : WorkloadResources()) {
    Workloads w{r, std::make_unique<kube::Informer>(client, r, "", kube::ListOptions{}, log)};
    std::string kind = r.kind;
    kube::InformerHandlers h;
    h.on_add = [this, kind](const kube::ObjectPtr& o) {
      if (!TemplateOf(*o).empty()) queue_.Add("WL/" + kind + "/" + kube::KeyOf(*o));
    };
    // An annotation that went away matters too.
    h.on_update = [this, kind](const kube::ObjectPtr& old, const kube::ObjectPtr& o) {
      if (!TemplateOf(*o).empty() || !TemplateOf(*old).empty()) queue_.Add("WL/" + kind + "/" + kube::KeyOf(*o));
    };
    w.informer->AddHandlers(h);
    workloads_.push_back(std::move(w));
  }
  templates_.AddHandlers(handlers([this](const kube::ObjectPtr& t) {
    for (const auto& w : workloads_) {
      for (const auto& o : w.informer->List()) {
        if (TemplateOf(*o) == kube::Name(*t)) queue_.Add("WL/" + w.resource.kind + "/" + kube::KeyOf(*o));
      }
    }
  }));
}

V1beta1Controller::~V1beta1Controller() { Stop(); }

void V1beta1Controller::DeclareMetrics(Metrics& metrics) {
  metrics.Counter("stash_operator_session_phases_total",
                  "Phases the operator gave BackupSessions and RestoreSessions, by kind and phase.");
}

Status V1beta1Controller::Start(std::chrono::milliseconds sync_timeout) {
  std::vector<kube::Informer*> all = {&backup_configurations_, &backup_sessions_, &restore_sessions_, &jobs_,
                                      &cronjobs_, &templates_};
  for (auto& w : workloads_) all.push_back(w.informer.get());
  for (auto* i : all) i->Start();
  for (auto* i : all) {
    if (!i->WaitForSync(sync_timeout)) return IOError("cannot list " + i->resource().plural + ": " + i->problem());
  }
  worker_ = std::thread([this] { Work(); });
  return Status::Ok();
}

void V1beta1Controller::Stop() {
  queue_.ShutDown();
  if (worker_.joinable()) worker_.join();
  for (auto* i : {&backup_configurations_, &backup_sessions_, &restore_sessions_, &jobs_, &cronjobs_, &templates_}) {
    i->Stop();
  }
  for (auto& w : workloads_) w.informer->Stop();
}

void V1beta1Controller::Work() {
  kube::RunWorker(queue_, [this](const std::string& key) { return Reconcile(key); }, log_, "");
}

Status V1beta1Controller::Reconcile(const std::string& key) {
  size_t slash = key.find('/');
  if (slash == std::string::npos) return Invalid("unknown key " + key);
  auto [ns, name] = kube::SplitKey(key.substr(slash + 1));
  std::string what = key.substr(0, slash);
  if (what == "WL") {
    size_t next = key.find('/', slash + 1);
    if (next == std::string::npos) return Invalid("unknown key " + key);
    auto [wns, wname] = kube::SplitKey(key.substr(next + 1));
    return ReconcileAutoBackup(key.substr(slash + 1, next - slash - 1), wns, wname);
  }
  if (what == "BC") return ReconcileBackupConfiguration(ns, name);
  if (what == "BS") return ReconcileBackupSession(ns, name);
  if (what == "RS") return ReconcileRestoreSession(ns, name);
  return Invalid("unknown key " + key);
}

Status V1beta1Controller::EnsureServiceAccount(const std::string& ns) {
  auto sa = client_->Apply(kServiceAccounts, ns, kV1beta1ServiceAccount, V1beta1ServiceAccountJson(ns), "stash-operator");
  if (!sa.ok()) return sa.error().Wrap("ServiceAccount " + ns + "/" + kV1beta1ServiceAccount);
  auto rb = client_->Apply(kRoleBindings, ns, kV1beta1AgentClusterRole, V1beta1RoleBindingJson(ns), "stash-operator");
  if (!rb.ok()) return rb.error().Wrap("RoleBinding " + ns + "/" + kV1beta1AgentClusterRole);
  return Status::Ok();
}

Status V1beta1Controller::ReconcileBackupConfiguration(const std::string& ns, const std::string& name) {
  kube::ObjectPtr bc = backup_configurations_.Get(ns, name);
  if (!bc) return Status::Ok();
  auto ref = kube::ObjectReference::Of(*bc);
  const std::string kind = kube::StringAt(*bc, "/spec/target/ref/kind");
  const std::string target = kube::StringAt(*bc, "/spec/target/ref/name");
  if (kube::BeingDeleted(*bc)) {
    if (!HasFinalizer(*bc)) return Status::Ok();
    // The Restic controller takes the sidecar out; the finalizer waits for it.
    if (const kube::Resource* r = WorkloadResource(kind)) {
      auto workload = client_->Get(*r, ns, target);
      if (workload.ok() && AppliedBackupConfiguration(**workload) == name) {
        return IOError("waiting for the sidecar to leave " + kind + " " + ns + "/" + target);
      }
      if (!workload.ok() && workload.error().kind() != ErrorKind::kNotFound) return workload.error();
    }
    auto written = client_->Modify(kBackupConfigurations, ns, name, [](rapidjson::Document& o) {
      rapidjson::Value* f = rapidjson::Pointer("/metadata/finalizers").Get(o);
      if (!f || !f->IsArray()) return false;
      for (auto it = f->Begin(); it != f->End(); ++it) {
        if (it->IsString() && std::string(it->GetString()) == kStashFinalizer) {
          f->Erase(it);
          return true;
        }
      }
      return false;
    });
    if (!written.ok() && written.error().kind() != ErrorKind::kNotFound) return written.error();
    if (log_) log_("BackupConfiguration " + ns + "/" + name + " deleted: finalizer removed");
    return Status::Ok();
  }
  if (!HasFinalizer(*bc)) {
    auto written = client_->Modify(kBackupConfigurations, ns, name, [](rapidjson::Document& o) {
      rapidjson::Value* f = rapidjson::Pointer("/metadata/finalizers").Get(o);
      if (!f || !f->IsArray()) f = &rapidjson::Pointer("/metadata/finalizers").Set(o, rapidjson::Value(rapidjson::kArrayType));
      f->PushBack(rapidjson::Value(kStashFinalizer, o.GetAllocator()), o.GetAllocator());
      return true;
    });
    if (!written.ok()) return written.error().Wrap("adding the finalizer to BackupConfiguration " + name);
  }
  auto spec = ParseBackupConfiguration(*bc);
  if (!spec.ok()) {
    events_->Warning(ref, "InvalidBackupConfiguration", spec.error().message());
    return Status::Ok();
  }
  if (spec->driver != "Restic") {
    events_->Warning(ref, "UnsupportedDriver", "driver " + spec->driver + " is not supported; only Restic");
  }
  if (!spec->target || !IsWorkloadKind(spec->target->ref.kind)) {
    if (spec->task.name.empty()) {
      events_->Warning(ref, "InvalidBackupConfiguration",
                       "spec.task.name is missing: a target that is not a workload is backed up by a Task's Job");
    }
  }
  auto repo = client_->Get(kRepositories, ns, spec->repository_name);
  if (!repo.ok() && repo.error().kind() == ErrorKind::kNotFound) {
    events_->Warning(ref, "RepositoryNotFound", "Repository " + ns + "/" + spec->repository_name + " not found");
  }
  STASH_RETURN_IF_ERROR(EnsureServiceAccount(ns));
  auto cronjob = BackupCronJobJson(*bc, options_.image);
  if (!cronjob.ok()) {
    events_->Warning(ref, "InvalidSchedule", cronjob.error().message() + "; no CronJob is made");
    return Status::Ok();
  }
  std::string cron_name = Dashed(name);
  kube::ObjectPtr existing = cronjobs_.Get(ns, cron_name);
  auto applied = client_->Apply(kCronJobs, ns, cron_name, *cronjob, "stash-operator");
  if (!applied.ok() && applied.error().kind() == ErrorKind::kInvalid) {
    events_->Warning(ref, "CronJobFailedToCreate", applied.error().message());
    return Status::Ok();
  }
  if (!applied.ok()) return applied.error().Wrap("CronJob " + cron_name);
  if (!existing) {
    events_->Normal(ref, "CronJobCreated", "CronJob " + cron_name + " creates BackupSessions on \"" +
                                               kube::StringAt(**applied, "/spec/schedule") + "\"");
  }
  return Status::Ok();
}

Status V1beta1Controller::ReconcileAutoBackup(const std::string& kind, const std::string& ns,
                                              const std::string& name) {
  const Workloads* w = nullptr;
  for (const auto& x : workloads_) {
    if (x.resource.kind == kind) w = &x;
  }
  if (!w) return Invalid("unknown workload kind " + kind);
  kube::ObjectPtr workload = w->informer->Get(ns, name);
  if (!workload || kube::BeingDeleted(*workload)) return Status::Ok();  // the garbage collector takes the BC
  const std::string object_name = AutoBackupName(kind, name);
  const std::string template_name = TemplateOf(*workload);
  auto ref = kube::ObjectReference::Of(*workload);
  if (template_name.empty()) {
    // The annotation went: the BackupConfiguration we made goes, the Repository stays.
    kube::ObjectPtr bc = backup_configurations_.Get(ns, object_name);
    if (!bc || kube::Labels(*bc)[kTemplateLabel].empty() || kube::BeingDeleted(*bc)) return Status::Ok();
    const kube::Json* owners = kube::At(*bc, "/metadata/ownerReferences");
    bool ours = false;
    if (owners && owners->IsArray()) {
      for (const auto& o : owners->GetArray()) ours |= kube::StringOf(o, "uid") == kube::Uid(*workload);
    }
    if (!ours) return Status::Ok();
    STASH_RETURN_IF_ERROR(client_->Delete(kBackupConfigurations, ns, object_name));
    events_->Normal(ref, "AutoBackupRemoved", "BackupConfiguration " + object_name + " deleted (Repository " +
                                                  object_name + " kept)");
    return Status::Ok();
  }
  kube::ObjectPtr tmpl = templates_.Get("", template_name);
  if (!tmpl) {
    events_->Warning(ref, "BackupConfigurationTemplateNotFound",
                     "BackupConfigurationTemplate " + template_name + " not found");
    return Status::Ok();  // its creation enqueues the workload again
  }
  auto objects = AutoBackupObjects(*tmpl, *workload, kind);
  if (!objects.ok()) {
    events_->Warning(ref, "InvalidAutoBackup", objects.error().message());
    return Status::Ok();
  }
  bool existed = backup_configurations_.Get(ns, object_name) != nullptr;
  auto repo = client_->Apply(kRepositories, ns, object_name, objects->repository_json, "stash-operator");
  if (!repo.ok()) {
    if (repo.error().kind() == ErrorKind::kInvalid) {
      events_->Warning(ref, "InvalidAutoBackup", "Repository " + object_name + ": " + repo.error().message());
      return Status::Ok();
    }
    return repo.error().Wrap("Repository " + object_name);
  }
  auto bc = client_->Apply(kBackupConfigurations, ns, object_name, objects->backup_configuration_json, "stash-operator");
  if (!bc.ok()) {
    if (bc.error().kind() == ErrorKind::kInvalid) {
      events_->Warning(ref, "InvalidAutoBackup", "BackupConfiguration " + object_name + ": " + bc.error().message());
      return Status::Ok();
    }
    return bc.error().Wrap("BackupConfiguration " + object_name);
  }
  if (!existed) {
    events_->Normal(ref, "AutoBackupCreated", "Repository and BackupConfiguration " + object_name +
                                                  " made from BackupConfigurationTemplate " + template_name);
  }
  return Status::Ok();
}

Status V1beta1Controller::SetPhase(const kube::Json& session, bool backup, const std::string& phase,
                                   std::optional<int> total_hosts, const std::string& reason,
                                   const std::string& message, const std::string& duration) {
  SessionUpdate u{phase, total_hosts, duration, phase == "Failed" || phase == "Skipped" ? reason : "", message};
  auto written = client_->Patch(backup ? kBackupSessions : kRestoreSessions, kube::Namespace(session),
                                kube::Name(session), kube::PatchType::kMerge, SessionStatusPatch(u), "status");
  if (!written.ok()) {
    if (written.error().kind() == ErrorKind::kNotFound) return Status::Ok();
    return written.error().Wrap(std::string(Kind(backup)) + " " + kube::Name(session) + " status");
  }
  if (options_.metrics) {
    options_.metrics->Add("stash_operator_session_phases_total", {{"kind", Kind(backup)}, {"phase", phase}});
  }
  auto ref = kube::ObjectReference::Of(session);
  if (phase == "Failed") {
    events_->Warning(ref, reason, message);
  } else {
    events_->Normal(ref, reason, message);
  }
  if (log_) log_(std::string(Kind(backup)) + " " + kube::KeyOf(session) + ": " + phase + " (" + message + ")");
  return Status::Ok();
}

Status V1beta1Controller::FailSession(const kube::Json& session, bool backup, const std::string& reason,
                                      const std::string& message) {
  return SetPhase(session, backup, "Failed", std::nullopt, reason, message);
}

Status V1beta1Controller::ReconcileBackupSession(const std::string& ns, const std::string& name) {
  kube::ObjectPtr session = backup_sessions_.Get(ns, name);
  if (!session || kube::BeingDeleted(*session)) return Status::Ok();
  std::string phase = kube::StringAt(*session, "/status/phase");
  if (SessionFinished(phase)) return Status::Ok();
  if (phase.empty() || phase == "Pending") return StartSession(*session, true);
  return AdvanceSession(*session, true);
}

Status V1beta1Controller::ReconcileRestoreSession(const std::string& ns, const std::string& name) {
  kube::ObjectPtr session = restore_sessions_.Get(ns, name);
  if (!session || kube::BeingDeleted(*session)) return Status::Ok();
  std::string phase = kube::StringAt(*session, "/status/phase");
  if (SessionFinished(phase)) return Status::Ok();
  if (phase.empty() || phase == "Pending") return StartSession(*session, false);
  return AdvanceSession(*session, false);
}

Status V1beta1Controller::StartSession(const kube::Json& session, bool backup) {
  const std::string ns = kube::Namespace(session), name = kube::Name(session);
  // The object the session runs: its BackupConfiguration, or itself.
  kube::ObjectPtr bc_object;
  std::optional<BackupConfigurationSpec> bc;
  std::optional<RestoreSessionSpec> restore;
  std::string repository_name, task_name, driver;
  std::optional<V1beta1Target> target;
  if (backup) {
    std::string bc_name = kube::StringAt(session, "/spec/backupConfiguration/name");
    bc_object = backup_configurations_.Get(ns, bc_name);
    if (!bc_object || kube::BeingDeleted(*bc_object)) {
      return FailSession(session, true, "BackupConfigurationNotFound",
                         "BackupConfiguration " + ns + "/" + bc_name + " not found");
    }
    auto parsed = ParseBackupConfiguration(*bc_object);
    if (!parsed.ok()) {
      return FailSession(session, true, "InvalidBackupConfiguration",
                         "BackupConfiguration " + bc_name + ": " + parsed.error().message());
    }
    bc = std::move(*parsed);
    if (bc->paused) {
      return SetPhase(session, true, "Skipped", std::nullopt, "BackupSkipped",
                      "BackupConfiguration " + ns + "/" + bc_name + " is paused");
    }
    repository_name = bc->repository_name;
    task_name = bc->task.name;
    driver = bc->driver;
    target = bc->target;
  } else {
    auto parsed = ParseRestoreSession(session);
    if (!parsed.ok()) return FailSession(session, false, "InvalidRestoreSession", parsed.error().message());
    restore = std::move(*parsed);
    repository_name = restore->repository_name;
    task_name = restore->task.name;
    driver = restore->driver;
    target = restore->target;
  }
  if (driver != "Restic") {
    return FailSession(session, backup, "UnsupportedDriver", "driver " + driver + " is not supported; only Restic");
  }
  auto repository = client_->Get(kRepositories, ns, repository_name);
  if (!repository.ok()) {
    if (repository.error().kind() != ErrorKind::kNotFound) return repository.error();
    return FailSession(session, backup, "RepositoryNotFound", "Repository " + ns + "/" + repository_name + " not found");
  }
  const std::string kind = target ? target->ref.kind : "";
  if (target && IsWorkloadKind(kind)) {
    // The sidecar model: the hosts report by themselves.
    auto workload = client_->Get(*WorkloadResource(kind), ns, target->ref.name);
    if (!workload.ok()) {
      if (workload.error().kind() != ErrorKind::kNotFound) return workload.error();
      return FailSession(session, backup, "TargetNotFound", kind + " " + ns + "/" + target->ref.name + " not found");
    }
    int hosts = TotalHosts(kind, workload->get());
    if (!backup && kind != "StatefulSet" && kind != "DaemonSet") hosts = 1;
    return SetPhase(session, backup, "Running", hosts, backup ? "BackupSessionRunning" : "RestoreSessionRunning",
                    std::to_string(hosts) + " host(s) of " + kind + " " + target->ref.name + " to report");
  }
  // The job model: a Job from the Task.
  if (task_name.empty()) {
    return FailSession(session, backup, "TaskMissing",
                       std::string(backup ? "BackupConfiguration " + bc->name : "RestoreSession " + name) +
                           ": spec.task.name is missing; a target that is not a workload is " +
                           (backup ? "backed up" : "restored") + " by a Task's Job");
  }
  const std::string job_name = std::string(backup ? "stash-backup-" : "stash-restore-") + Dashed(name);
  if (!jobs_.Get(ns, job_name)) {
    auto task = client_->Get(kTasks, "", task_name);
    if (!task.ok()) {
      if (task.error().kind() != ErrorKind::kNotFound) return task.error();
      return FailSession(session, backup, "TaskNotFound", "Task " + task_name + " not found");
    }
    std::map<std::string, kube::ObjectPtr> functions;
    for (const rapidjson::Value* step : json::ArrayAt(**task, "/spec/steps")) {
      std::string fn = kube::StringOf(*step, "name");
      if (fn.empty() || functions.count(fn)) continue;
      auto got = client_->Get(kFunctions, "", fn);
      if (got.ok()) {
        functions[fn] = *got;
      } else if (got.error().kind() != ErrorKind::kNotFound) {
        return got.error();
      }
    }
    kube::ObjectPtr appbinding;
    if (target && kind == "AppBinding") {
      auto got = client_->Get(kAppBindings, ns, target->ref.name);
      if (!got.ok()) {
        if (got.error().kind() != ErrorKind::kNotFound) return got.error();
        return FailSession(session, backup, "TargetNotFound", "AppBinding " + ns + "/" + target->ref.name + " not found");
      }
      appbinding = *got;
    }
    TaskPodRequest request;
    const TaskRef& task_ref = backup ? bc->task : restore->task;
    for (const auto& [k, v] : task_ref.params) request.params[k] = v;
    request.inputs = backup ? BackupJobInputs(*bc, name, **repository, appbinding.get(), options_.pushgateway_url)
                            : RestoreJobInputs(*restore, **repository, appbinding.get(), options_.pushgateway_url);
    request.runtime_settings_json = backup ? bc->runtime_settings_json : restore->runtime_settings_json;
    request.temp_dir_json = backup ? bc->temp_dir_json : restore->temp_dir_json;
    if (const rapidjson::Value* local = kube::At(**repository, "/spec/backend/local"); local && local->IsObject()) {
      request.local_backend_json = kube::ToJson(*local);
    }
    auto lookup = [&functions](const std::string& fn) -> const rapidjson::Value* {
      auto it = functions.find(fn);
      return it == functions.end() ? nullptr : it->second.get();
    };
    auto pod = TaskPodSpecJson(**task, lookup, request);
    if (!pod.ok()) return FailSession(session, backup, "InvalidTask", pod.error().message());
    STASH_RETURN_IF_ERROR(EnsureServiceAccount(ns));
    std::vector<std::pair<std::string, std::string>> labels;
    if (backup) {
      labels.emplace_back(kBackupConfigurationLabel, bc->name);
    } else {
      labels.emplace_back(kRestoreSessionLabel, name);
    }
    auto created = client_->Create(kJobs, ns, TaskJobJson(session, backup ? kBackupSessions : kRestoreSessions,
                                                          job_name, labels, *pod));
    if (!created.ok() && created.error().kind() != ErrorKind::kConflict) {
      if (created.error().kind() == ErrorKind::kInvalid) {
        return FailSession(session, backup, "JobFailedToCreate", "Job " + job_name + ": " + created.error().message());
      }
      return created.error().Wrap("Job " + job_name);
    }
    events_->Normal(kube::ObjectReference::Of(session), "JobCreated",
                    "Job " + job_name + " runs Task " + task_name);
  }
  return SetPhase(session, backup, "Running", 1, backup ? "BackupSessionRunning" : "RestoreSessionRunning",
                  "Job " + job_name + " runs Task " + task_name);
}

Status V1beta1Controller::AdvanceSession(const kube::Json& session, bool backup) {
  const std::string ns = kube::Namespace(session), name = kube::Name(session);
  SessionState state = ReadSessionState(session);
  if (auto done = CompletedPhase(state)) {
    std::string message;
    for (const auto& h : state.stats) {
      if (h.phase != "Succeeded") {
        message += (message.empty() ? "" : "; ") + h.hostname + ": " + (h.error.empty() ? h.phase : h.error);
      }
    }
    if (message.empty()) message = std::to_string(state.stats.size()) + " host(s) " + (backup ? "backed up" : "restored");
    std::string reason = std::string(backup ? "BackupSession" : "RestoreSession") + *done;
    return SetPhase(session, backup, *done, std::nullopt, reason, message, SessionDuration(state.stats));
  }
  // The job model: a Job that failed before its host reported.
  const std::string job_name = std::string(backup ? "stash-backup-" : "stash-restore-") + Dashed(name);
  kube::ObjectPtr job = jobs_.Get(ns, job_name);
  if (!job || !JobConditionTrue(*job, "Failed")) return Status::Ok();
  for (const auto& h : state.stats) {
    if (h.hostname == "host-0") return Status::Ok();
  }
  kube::ListOptions pods_of;
  pods_of.label_selector = "job-name=" + job_name;
  auto pods = client_->List(kube::resources::kPods, ns, pods_of);
  std::string why = JobFailure(*job, pods.ok() ? pods->items : std::vector<kube::ObjectPtr>{});
  HostStats failed;
  failed.hostname = "host-0";
  failed.phase = "Failed";
  failed.error = why;
  auto written = client_->Modify(backup ? kBackupSessions : kRestoreSessions, ns, name,
                                 [&](rapidjson::Document& s) {
                                   for (const auto& h : ParseHostStats(s)) {
                                     if (h.hostname == "host-0") return false;
                                   }
                                   rapidjson::Value* stats = rapidjson::Pointer("/status/stats").Get(s);
                                   if (!stats || !stats->IsArray()) {
                                     stats = &rapidjson::Pointer("/status/stats").Set(s, rapidjson::Value(rapidjson::kArrayType));
                                   }
                                   rapidjson::Document entry;
                                   entry.Parse(HostStatsJson(failed).c_str());
                                   stats->PushBack(rapidjson::Value(entry, s.GetAllocator()), s.GetAllocator());
                                   return true;
                                 },
                                 /*status=*/true);
  if (!written.ok() && written.error().kind() != ErrorKind::kNotFound) return written.error();
  events_->Warning(kube::ObjectReference::Of(session), "JobFailed", "Job " + job_name + " failed: " + why);
  return Status::Ok();
}

}  // namespace stash::op
