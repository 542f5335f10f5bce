#include "agent/backup_session.h"

#include "agent/host_repository.h"
#include "agent/metrics.h"
#include "agent/repository_object.h"
#include "stashapi/restic_spec.h"
#include "agent/retention.h"
#include "agent/storage_access.h"
#include "base/text_file.h"
#include "engine/archiver.h"
#include "storage/lock.h"

namespace stash::agent {
namespace {

using Clock = std::chrono::system_clock;
using Steady = std::chrono::steady_clock;

double SecondsSince(Steady::time_point since) {
  return std::chrono::duration<double>(Steady::now() - since).count();
}

// A backup that left files out saved a snapshot, but not of everything the
// file group names: 0.8.3 (restic exiting non-zero) counted it as failed.
Status BackupResultStatus(const BackupResult& result) {
  if (result.warnings.empty()) return Status::Ok();
  std::string message = std::to_string(result.warnings.size()) + " file(s) could not be read, the first: " +
                        result.warnings.front().message;
  return IOError(message);
}

class Session {
 public:
  explicit Session(const AgentContext& ctx) : ctx_(ctx) {}

  SessionResult Run() {
    start_ = Clock::now();
    began_ = Steady::now();
    if (!LoadRestic()) return result_;
    if (spec_.paused) {
      Log("Restic " + spec_.ns + "/" + spec_.name + " is paused: skipping this session");
      return SessionResult::kPaused;
    }
    bool ok = Prepare() && BackupAll();
    if (ok) Succeeded();
    PushMetrics(ok);
    return ok ? SessionResult::kSucceeded : SessionResult::kFailed;
  }

 private:
  void Log(const std::string& line) const {
    if (ctx_.log) ctx_.log(line);
  }

  void Event(const std::string& type, const std::string& reason, const std::string& message) {
    Log(reason + ": " + message);
    ctx_.events->Record(kube::ObjectReference::Of(*restic_), type, reason, message);
  }

  bool Fail(const std::string& reason, const std::string& message) {
    Event("Warning", reason, message);
    result_ = SessionResult::kFailed;
    return false;
  }

  bool LoadRestic() {
    auto restic = ctx_.client->Get(kRestics, ctx_.ns, ctx_.restic_name);
    if (!restic.ok()) {
      std::string what = "Restic " + ctx_.ns + "/" + ctx_.restic_name;
      bool missing = restic.error().kind() == ErrorKind::kNotFound;
      PodWarning(ctx_, reason::kFailedSetup,
                 missing ? what + " not found" : "cannot read " + what + ": " + restic.error().message());
      result_ = missing ? SessionResult::kNoRestic : SessionResult::kFailed;
      return false;
    }
    restic_ = *restic;
    auto spec = ParseRestic(*restic_);
    if (!spec.ok()) {
      Fail(reason::kFailedSetup, "failed to setup backup: " + spec.error().message());
      PushMetrics(false);
      return false;
    }
    spec_ = std::move(*spec);
    return true;
  }

  // The Secret, the storage and the Repository object.
  bool Prepare() {
    auto secret = ReadStorageSecret(*ctx_.client, spec_.ns, spec_.storage_secret_name);
    if (!secret.ok()) return Fail(reason::kFailedToBackup, "Backup failed, reason: " + secret.error().message());
    secret_ = std::move(*secret);
    const std::string prefix = SmartPrefix(ctx_.workload);
    auto opened = OpenHostRepository(spec_.backend, prefix, secret_, SnapshotHost(ctx_.workload));
    if (!opened.ok()) return Fail(reason::kFailedToBackup, "Backup failed, reason: " + opened.error().message());
    if (opened->created) Log("created restic repository at " + opened->location);
    location_ = opened->location;
    // A crashed earlier session of this host may have left its lock.
    auto removed = RemoveLocks(*opened->repo, /*all=*/false);
    if (removed.ok() && *removed > 0) Log("removed " + std::to_string(*removed) + " stale lock(s)");
    RepositoryObject object;
    object.ns = spec_.ns;
    object.name = RepositoryName(ctx_.workload);
    object.labels = RepositoryLabels(ctx_.workload, spec_.name);
    object.backend_json = RepositoryBackendJson(*kube::At(*restic_, "/spec/backend"), spec_.backend, prefix);
    Status ensured = EnsureRepository(*ctx_.client, object);
    if (!ensured.ok()) return Fail(reason::kFailedToBackup, "Backup failed, reason: " + ensured.error().message());
    fresh_ = std::move(opened->repo);
    return true;
  }

  // The repository as just opened (no index loaded yet): the one Prepare
  // opened for the first file group, a new one for each later group.
  Result<std::unique_ptr<Repository>> FreshRepository() {
    if (fresh_) return std::move(fresh_);
    auto opened = OpenHostRepository(spec_.backend, SmartPrefix(ctx_.workload), secret_, SnapshotHost(ctx_.workload),
                                     /*create=*/false);
    if (!opened.ok()) return opened.error();
    return std::move(opened->repo);
  }

  // Backs up one file group in a freshly opened repository (a prune in the
  // previous group's retention replaced index files) and returns it for
  // the retention step.
  Result<std::unique_ptr<Repository>> Backup(const FileGroup& group) {
    STASH_ASSIGN_OR_RETURN(auto fresh, FreshRepository());
    Repository& repo = *fresh;
    {
      STASH_ASSIGN_OR_RETURN(auto lock, RepositoryLock::Acquire(repo, LockMode::kShared));
      STASH_RETURN_IF_ERROR(repo.LoadIndex(IndexDetail::kDataIdsOnly));
      ChunkerTables tables(repo.config().chunker_polynomial);
      BackupOptions options;
      options.targets = {group.path};
      options.hostname = SnapshotHost(ctx_.workload);
      options.tags = group.tags;
      options.force = true;
      STASH_ASSIGN_OR_RETURN(auto result, stash::Backup(repo, tables, options));
      STASH_RETURN_IF_ERROR(BackupResultStatus(result));
      Log("backed up " + group.path + " as snapshot " + result.summary.snapshot_id.Short() + " in " + location_);
    }
    return fresh;
  }

  bool BackupGroup(const FileGroup& group) {
    auto began = Steady::now();
    auto repo = Backup(group);
    metrics_.operations.push_back({group.path, "backup", SecondsSince(began)});
    if (!repo.ok()) return Fail(reason::kFailedToBackup, "Backup failed, reason: " + repo.error().message());
    Event("Normal", reason::kSuccessfulBackup, "Backed up pod: " + ctx_.pod_hostname + ", path: " + group.path);
    const RetentionPolicy* policy = spec_.PolicyFor(group);
    if (!policy) return true;
    began = Steady::now();
    auto kept = ApplyRetention(**repo, *policy, SnapshotHost(ctx_.workload), group.path);
    metrics_.operations.push_back({group.path, "forget", SecondsSince(began)});
    if (!kept.ok()) {
      return Fail(reason::kFailedToRetention, "Failed to forget old snapshots, reason: " + kept.error().message());
    }
    if (kept->removed > 0) {
      Log("retention " + policy->name + ": " + std::string(policy->dry_run ? "would forget " : "forgot ") +
          std::to_string(kept->removed) + " snapshot(s) of " + group.path + (kept->pruned ? ", pruned" : ""));
    }
    return true;
  }

  bool BackupAll() {
    for (const auto& group : spec_.file_groups) {
      if (!BackupGroup(group)) return false;
    }
    return true;
  }

  void Succeeded() {
    auto took = std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now() - began_);
    Status recorded = RecordBackupStatus(*ctx_.client, spec_.ns, RepositoryName(ctx_.workload), start_, took);
    if (!recorded.ok()) Log("cannot record the session: " + recorded.error().message());
    CheckJobSpec job{SnapshotHost(ctx_.workload), SmartPrefix(ctx_.workload), ctx_.check_image,
                     ctx_.check_service_account};
    auto ensured = EnsureCheckJob(*ctx_.client, *restic_, spec_, job);
    if (!ensured.ok()) {
      Event("Warning", reason::kFailedCronJob, "failed to create check job, reason: " + ensured.error().message());
    } else if (*ensured == CheckJobAction::kCreated) {
      Event("Normal", reason::kCheckJobCreated, "Created check job: " + CheckJobName(spec_.name));
    }
  }

  void PushMetrics(bool success) {
    if (ctx_.pushgateway_url.empty()) return;
    metrics_.success = success;
    metrics_.duration_seconds = SecondsSince(began_);
    std::map<std::string, std::string> pod_labels;
    if (auto text = ReadTextFile(ctx_.pod_labels_path); text.ok()) pod_labels = ParsePodLabels(*text);
    auto labels = GroupingLabels(ctx_.workload, ctx_.ns, ctx_.restic_name, pod_labels);
    Status pushed = agent::PushMetrics(ctx_.pushgateway_url, PushJobName(ctx_.ns, ctx_.restic_name), labels,
                                       MetricsText(metrics_));
    if (!pushed.ok()) Log("cannot push metrics: " + pushed.error().message());
  }

  const AgentContext& ctx_;
  SessionResult result_ = SessionResult::kFailed;
  kube::ObjectPtr restic_;
  ResticSpec spec_;
  std::map<std::string, std::string> secret_;
  std::string location_;
  std::unique_ptr<Repository> fresh_;
  SessionMetrics metrics_;
  Clock::time_point start_;
  Steady::time_point began_;
};

}  // namespace

SessionResult RunBackupSession(const AgentContext& ctx) { return Session(ctx).Run(); }

void PodWarning(const AgentContext& ctx, const std::string& reason, const std::string& message) {
  if (ctx.log) ctx.log(reason + ": " + message);
  if (ctx.workload.pod_name.empty()) return;
  kube::ObjectReference pod;
  pod.api_version = "v1";
  pod.kind = "Pod";
  pod.ns = ctx.ns;
  pod.name = ctx.workload.pod_name;
  ctx.events->Warning(pod, reason, message);
}

}  // namespace stash::agent
