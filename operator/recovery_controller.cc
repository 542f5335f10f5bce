#include "operator/recovery_controller.h"

#include "crypto/encoding.h"
#include "operator/recovery_precheck.h"

namespace stash::op {
namespace {

// The uid and name of the Recovery owning `object` ("" when none does).
std::pair<std::string, std::string> OwningRecovery(const kube::Json& object) {
  const kube::Json* owners = kube::At(object, "/metadata/ownerReferences");
  if (!owners || !owners->IsArray()) return {};
  for (const auto& o : owners->GetArray()) {
    if (o.IsObject() && kube::StringOf(o, "kind") == kRecoveries.kind &&
        kube::StringOf(o, "apiVersion") == kRecoveries.ApiVersion()) {
      return {kube::StringOf(o, "uid"), kube::StringOf(o, "name")};
    }
  }
  return {};
}

// A Secret's data, decoded (values that are not base64 left out).
std::map<std::string, std::string> SecretData(const kube::Json& secret) {
  std::map<std::string, std::string> out;
  for (const auto& [key, encoded] : kube::StringMap(kube::At(secret, "/data"))) {
    if (auto bytes = Base64Decode(encoded)) out[key] = std::string(AsString(*bytes));
  }
  return out;
}

int64_t Generation(const kube::Json& object) {
  const kube::Json* g = kube::At(object, "/metadata/generation");
  return g && g->IsInt64() ? g->GetInt64() : 0;
}

std::string Named(const std::string& kind, const std::string& ns, const std::string& name) {
  return kind + " " + ns + "/" + name;
}

}  // namespace

RecoveryController::RecoveryController(kube::Client* client, kube::EventRecorder* events, RecoveryJobOptions options,
                                       kube::LogFn log)
    : client_(client), events_(events), options_(std::move(options)), log_(log),
      recoveries_(client, kRecoveries, "", {}, log),
      jobs_(client, kJobs, "", kube::ListOptions{"operation=recovery", "", 500}, log) {
  kube::InformerHandlers on_recovery;
  on_recovery.on_add = [this](const kube::ObjectPtr& r) { queue_.Add(kube::KeyOf(*r)); };
  on_recovery.on_update = [this](const kube::ObjectPtr&, const kube::ObjectPtr& r) { queue_.Add(kube::KeyOf(*r)); };
  on_recovery.on_delete = [this](const kube::ObjectPtr& r) {
    std::lock_guard<std::mutex> lock(mu_);
    written_.erase(kube::Uid(*r));
  };
  recoveries_.AddHandlers(on_recovery);
  kube::InformerHandlers on_job;
  on_job.on_add = [this](const kube::ObjectPtr& j) { EnqueueOwner(j); };
  on_job.on_update = [this](const kube::ObjectPtr&, const kube::ObjectPtr& j) { EnqueueOwner(j); };
  on_job.on_delete = [this](const kube::ObjectPtr& j) { EnqueueOwner(j); };
  jobs_.AddHandlers(on_job);
}

RecoveryController::~RecoveryController() { Stop(); }

Status RecoveryController::Start(std::chrono::milliseconds sync_timeout) {
  recoveries_.Start();
  jobs_.Start();
  if (!recoveries_.WaitForSync(sync_timeout)) return IOError("cannot list recoveries: " + recoveries_.problem());
  if (!jobs_.WaitForSync(sync_timeout)) return IOError("cannot list jobs: " + jobs_.problem());
  worker_ = std::thread([this] { Work(); });
  return Status::Ok();
}

void RecoveryController::Stop() {
  queue_.ShutDown();
  if (worker_.joinable()) worker_.join();
  recoveries_.Stop();
  jobs_.Stop();
}

void RecoveryController::EnqueueOwner(const kube::ObjectPtr& job) {
  auto [uid, name] = OwningRecovery(*job);
  if (!name.empty()) queue_.Add(kube::Key(kube::Namespace(*job), name));
}

void RecoveryController::Work() {
  kube::RunWorker(queue_, [this](const std::string& key) { return Reconcile(key); }, log_, "Recovery ");
}

Status RecoveryController::Reconcile(const std::string& key) {
  auto [ns, name] = kube::SplitKey(key);
  kube::ObjectPtr recovery = recoveries_.Get(ns, name);
  if (!recovery || kube::BeingDeleted(*recovery)) return Status::Ok();  // its Job goes with it
  kube::ObjectPtr job = jobs_.Get(ns, RecoveryJobName(name));
  if (!job) return Launch(*recovery);
  auto [owner_uid, owner_name] = OwningRecovery(*job);
  if (owner_uid == kube::Uid(*recovery)) return Follow(*recovery, *job);
  // The Job of an earlier Recovery of this name waits for the garbage
  // collector; its deletion enqueues this Recovery again.
  if (owner_name == name) return Status::Ok();
  return SetStatus(*recovery, {"Failed", kReasonJobFailedToCreate,
                               Named("Job", ns, RecoveryJobName(name)) + " exists and belongs to something else"});
}

Status RecoveryController::Follow(const kube::Json& recovery, const kube::Json& job) {
  std::string detail;
  if (JobHasCondition(job, "Failed")) {
    auto found = FailureDetailOf(job);
    if (!found.ok()) return found.error();
    detail = *found;
  }
  RecoveryStatus status = StatusFromJob(job, detail);
  // A Job's counts can fall back for a moment (a pod that finished is no
  // longer ready before it is counted); the phase never goes back.
  if (status.phase == "Pending" && Known(recovery).first.phase == "Running") return Status::Ok();
  return SetStatus(recovery, status);
}

Result<std::string> RecoveryController::FailureDetailOf(const kube::Json& job) {
  kube::ListOptions pods;
  pods.label_selector = "batch.kubernetes.io/controller-uid=" + kube::Uid(job);
  auto list = client_->List(kube::resources::kPods, kube::Namespace(job), pods);
  if (!list.ok()) return list.error().Wrap("pods of " + Named("Job", kube::Namespace(job), kube::Name(job)));
  return FailureDetail(list->items);
}

Status RecoveryController::Launch(const kube::Json& recovery) {
  auto [known, observed] = Known(recovery);
  if (Finished(known) && observed == Generation(recovery)) return Status::Ok();
  auto refused = CreateJob(recovery);
  if (!refused.ok()) return refused.error();
  if (*refused) return SetStatus(recovery, {"Failed", (*refused)->reason, (*refused)->message});
  return SetStatus(recovery, {"Pending", kReasonJobCreated,
                              "Recovery job " + RecoveryJobName(kube::Name(recovery)) + " created"});
}

Result<RecoveryController::Inputs> RecoveryController::ReadInputs(const kube::Json& recovery) {
  Inputs in;
  auto refuse = [&](const std::string& message) {
    in.refusal = Refusal{kReasonInvalid, message};
    return in;
  };
  auto spec = ParseRecovery(recovery);
  if (!spec.ok()) return refuse(spec.error().message());
  in.spec = *spec;
  const std::string repo_name = Named("Repository", in.spec.repository_ns, in.spec.repository_name);
  if (in.spec.repository_ns != in.spec.ns) {
    return refuse(repo_name + " is in another namespace; a Recovery restores only from Repositories of its own " +
                  "namespace (" + in.spec.ns + ")");
  }
  auto repository = client_->Get(kRepositories, in.spec.ns, in.spec.repository_name);
  if (!repository.ok() && repository.error().kind() == ErrorKind::kNotFound) return refuse(repo_name + " not found");
  if (!repository.ok()) return repository.error().Wrap(repo_name);
  in.repository = *repository;
  auto repo = ParseRepository(*in.repository);
  if (!repo.ok()) return refuse(repo.error().message());
  in.repo = *repo;
  const std::string secret_name = Named("Secret", in.spec.ns, in.repo.storage_secret_name);
  auto secret = client_->Get(kube::resources::kSecrets, in.spec.ns, in.repo.storage_secret_name);
  if (!secret.ok() && secret.error().kind() == ErrorKind::kNotFound) {
    return refuse(secret_name + " (the storage Secret of " + repo_name + ") not found");
  }
  if (!secret.ok()) return secret.error().Wrap(secret_name);
  in.secret = SecretData(**secret);
  if (in.secret["RESTIC_PASSWORD"].empty()) {
    return refuse(secret_name + " has no RESTIC_PASSWORD (missing repository password)");
  }
  return in;
}

std::optional<RecoveryController::Refusal> RecoveryController::CheckSnapshot(const Inputs& in) {
  if (in.spec.snapshot.empty()) return std::nullopt;
  auto lookup = LookUpSnapshot(in.repo.backend, in.secret, *SnapshotShortId(in.spec.snapshot, in.spec.repository_name));
  if (lookup.presence == SnapshotPresence::kMissing) {
    return Refusal{kReasonInvalid, "snapshot " + in.spec.snapshot + " not found in " +
                                       Named("Repository", in.spec.ns, in.spec.repository_name) + " (" +
                                       lookup.detail + ")"};
  }
  if (lookup.presence == SnapshotPresence::kUnknown && log_) {
    log_("Recovery " + in.spec.ns + "/" + in.spec.name + ": snapshot not checked before the Job: " + lookup.detail);
  }
  return std::nullopt;
}

Result<std::optional<RecoveryController::Refusal>> RecoveryController::CreateJob(const kube::Json& recovery) {
  using Out = std::optional<Refusal>;
  STASH_ASSIGN_OR_RETURN(Inputs in, ReadInputs(recovery));
  if (in.refusal) return in.refusal;
  if (auto missing = CheckSnapshot(in)) return missing;
  auto job = RecoveryJobJson(recovery, in.spec, *in.repository, in.repo, options_);
  if (!job.ok()) return Out(Refusal{kReasonInvalid, job.error().message()});
  STASH_RETURN_IF_ERROR(EnsureOwned(kServiceAccounts, in.spec.ns, RecoveryServiceAccountJson(in.spec)));
  STASH_RETURN_IF_ERROR(EnsureOwned(kRoleBindings, in.spec.ns, RecoveryRoleBindingJson(in.spec)));
  auto created = client_->Create(kJobs, in.spec.ns, *job);
  if (created.ok() && log_) log_("created " + Named("Job", in.spec.ns, RecoveryJobName(in.spec.name)));
  if (created.ok() || kube::Reason(created.error()) == "AlreadyExists") return Out();
  // 422: the server will not take this Job (a name too long, say); retrying cannot help.
  if (created.error().kind() == ErrorKind::kInvalid) {
    return Out(Refusal{kReasonJobFailedToCreate, created.error().message()});
  }
  return created.error();
}

Status RecoveryController::EnsureOwned(const kube::Resource& r, const std::string& ns, const std::string& json) {
  auto created = client_->Create(r, ns, json);
  if (created.ok() || kube::Reason(created.error()) == "AlreadyExists") return Status::Ok();
  return created.error().Wrap("create " + r.kind + " in " + ns);
}

std::pair<RecoveryStatus, int64_t> RecoveryController::Known(const kube::Json& recovery) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = written_.find(kube::Uid(recovery)); it != written_.end()) return it->second;
  return {CurrentStatus(recovery), ObservedGeneration(recovery)};
}

Status RecoveryController::SetStatus(const kube::Json& recovery, const RecoveryStatus& status) {
  const std::string uid = kube::Uid(recovery);
  const int64_t generation = Generation(recovery);
  auto [known, observed] = Known(recovery);
  if (known == status && observed == generation) return Status::Ok();
  auto patched = client_->Patch(kRecoveries, kube::Namespace(recovery), kube::Name(recovery), kube::PatchType::kMerge,
                                StatusPatch(status, generation), "status");
  if (!patched.ok() && patched.error().kind() == ErrorKind::kNotFound) return Status::Ok();  // deleted meanwhile
  if (!patched.ok()) return patched.error().Wrap("status of Recovery " + kube::KeyOf(recovery));
  {
    std::lock_guard<std::mutex> lock(mu_);
    written_[uid] = {status, generation};
  }
  if (known != status) {
    events_->Record(kube::ObjectReference::Of(**patched), EventType(status), status.reason, status.message);
    if (log_) log_("Recovery " + kube::KeyOf(recovery) + ": " + status.phase + " (" + status.message + ")");
  }
  return Status::Ok();
}

}  // namespace stash::op
