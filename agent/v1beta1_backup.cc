#include "agent/v1beta1_backup.h"

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "agent/retention.h"
#include "agent/v1beta1_session.h"
#include "agent/workload.h"
#include "base/string_util.h"
#include "engine/archiver.h"
#include "kube/informer.h"
#include "kube/leader_election.h"
#include "stashapi/go_duration.h"
#include "storage/lock.h"

namespace stash::agent {
namespace {

using Clock = std::chrono::system_clock;
using Steady = std::chrono::steady_clock;

// One path into a freshly opened repository (a prune of an earlier step
// may have replaced index files).
Result<BackupSummary> BackupPath(const V1beta1Repository& repo, const std::string& host, const std::string& path) {
  STASH_ASSIGN_OR_RETURN(auto opened, OpenV1beta1Repository(repo, host, /*create=*/false));
  Repository& r = *opened.repo;
  STASH_ASSIGN_OR_RETURN(auto lock, AcquireLockRetrying(r, LockMode::kShared, kLockRetry));
  STASH_RETURN_IF_ERROR(r.LoadIndex(IndexDetail::kDataIdsOnly));
  ChunkerTables tables(r.config().chunker_polynomial);
  BackupOptions options;
  options.targets = {path};
  options.hostname = host;
  STASH_ASSIGN_OR_RETURN(auto result, stash::Backup(r, tables, options));
  if (!result.warnings.empty()) {
    return IOError(std::to_string(result.warnings.size()) + " file(s) of " + path +
                   " could not be read, the first: " + result.warnings.front().message);
  }
  return result.summary;
}

class HostBackup {
 public:
  HostBackup(kube::Client& client, kube::EventRecorder& events, const RunBackupOptions& o, std::string host,
             const kube::Json& session, const kube::LogFn& log)
      : client_(client), events_(events), o_(o), host_(std::move(host)), session_(session), log_(log) {}

  HostStats Run() {
    start_ = Clock::now();
    began_ = Steady::now();
    stats_.hostname = host_;
    Status done = Backup();
    auto took = std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now() - began_);
    stats_.duration = FormatGoDuration(took.count());
    auto ref = kube::ObjectReference::Of(session_);
    if (done.ok()) {
      stats_.phase = "Succeeded";
      std::string names;
      for (const auto& s : stats_.snapshots) names += (names.empty() ? "" : ", ") + s.name + " (" + s.path + ")";
      events_.Normal(ref, "HostBackupSucceeded", "Backed up host " + host_ + ": snapshot " + names);
      Status recorded = RecordV1beta1BackupStatus(client_, o_.ns, repository_name_, start_, took, snapshot_count_);
      if (!recorded.ok()) Log("cannot record the backup in the Repository: " + recorded.error().message());
    } else {
      stats_.phase = "Failed";
      stats_.error = done.error().message();
      stats_.snapshots.clear();
      events_.Warning(ref, "HostBackupFailed", "Failed to back up host " + host_ + ": " + stats_.error);
    }
    PushMetrics(done.ok(), std::chrono::duration<double>(took).count());
    return stats_;
  }

 private:
  void Log(const std::string& line) const {
    if (log_) log_(line);
  }

  Status Backup() {
    const std::string what = "BackupConfiguration " + o_.ns + "/" + o_.bc_name;
    auto object = client_.Get(kBackupConfigurations, o_.ns, o_.bc_name);
    if (!object.ok()) {
      if (object.error().kind() == ErrorKind::kNotFound) return NotFound(what + " not found");
      return object.error().Wrap(what);
    }
    STASH_ASSIGN_OR_RETURN(BackupConfigurationSpec bc, ParseBackupConfiguration(**object));
    repository_name_ = bc.repository_name;
    if (!bc.target || bc.target->paths.empty()) return Invalid(what + " has no spec.target.paths to back up");
    STASH_ASSIGN_OR_RETURN(V1beta1Repository repo, ReadV1beta1Repository(client_, o_.ns, bc.repository_name));
    {
      STASH_ASSIGN_OR_RETURN(auto opened, OpenV1beta1Repository(repo, host_, /*create=*/true));
      if (opened.created) Log("created restic repository at " + opened.location);
      location_ = opened.location;
      auto removed = RemoveLocks(*opened.repo, /*all=*/false);
      if (removed.ok() && *removed > 0) Log("removed " + std::to_string(*removed) + " stale lock(s)");
    }
    for (const auto& path : bc.target->paths) {
      auto summary = BackupPath(repo, host_, path);
      if (!summary.ok()) return summary.error().Wrap("backup of " + path + " to " + location_);
      Log("backed up " + path + " as host " + host_ + ": snapshot " + summary->snapshot_id.Short());
      stats_.snapshots.push_back(SnapshotStatsOf(*summary, path));
      metrics_.size_bytes += summary->total_bytes_processed;
      metrics_.uploaded_bytes += summary->data_added;
      metrics_.processing_seconds += summary->total_duration;
      metrics_.files_total += summary->total_files_processed;
      metrics_.files_new += summary->files_new;
      metrics_.files_modified += summary->files_changed;
      metrics_.files_unmodified += summary->files_unmodified;
    }
    if (HasKeepRule(bc.retention)) {
      for (const auto& path : bc.target->paths) {
        STASH_ASSIGN_OR_RETURN(auto opened, OpenV1beta1Repository(repo, host_, /*create=*/false));
        auto kept = ApplyRetention(*opened.repo, bc.retention, host_, path, kLockRetry);
        if (!kept.ok()) return kept.error().Wrap("retention policy of " + path);
        if (kept->removed > 0) {
          Log("retention: " + std::string(bc.retention.dry_run ? "would forget " : "forgot ") +
              std::to_string(kept->removed) + " snapshot(s) of " + path + (kept->pruned ? ", pruned" : ""));
        }
      }
    }
    STASH_ASSIGN_OR_RETURN(auto opened, OpenV1beta1Repository(repo, host_, /*create=*/false));
    auto all = opened.repo->LoadAllSnapshots();
    if (all.ok()) snapshot_count_ = static_cast<int64_t>(all->size());
    return Status::Ok();
  }

  void PushMetrics(bool success, double seconds) {
    metrics_.success = success;
    metrics_.duration_seconds = seconds;
    metrics_.snapshot_count = snapshot_count_;
    PushV1beta1Metrics(o_.pushgateway_url, "stash-backup", o_.ns, "backup_configuration", o_.bc_name, host_,
                       BackupMetricsText(metrics_), log_);
  }

  kube::Client& client_;
  kube::EventRecorder& events_;
  const RunBackupOptions& o_;
  std::string host_;
  const kube::Json& session_;
  const kube::LogFn& log_;
  HostStats stats_;
  V1beta1BackupMetrics metrics_;
  std::string repository_name_, location_;
  int64_t snapshot_count_ = -1;
  Clock::time_point start_;
  Steady::time_point began_;
};

// Watches the sessions and serves those this host owes, until `stop`.
class SessionLoop {
 public:
  SessionLoop(kube::Client& client, kube::EventRecorder& events, const RunBackupOptions& o, std::string host,
              const kube::LogFn& log)
      : client_(client), events_(events), o_(o), host_(std::move(host)), log_(log),
        informer_(&client, kBackupSessions, o.ns, {}, log) {
    auto poke = [this] {
      std::lock_guard<std::mutex> lock(mu_);
      ++generation_;
      cv_.notify_all();
    };
    informer_.AddHandlers({[poke](const kube::ObjectPtr&) { poke(); },
                           [poke](const kube::ObjectPtr&, const kube::ObjectPtr&) { poke(); }, nullptr});
  }

  void Run(const std::atomic<bool>& stop) {
    informer_.Start();
    while (!stop && !informer_.WaitForSync(std::chrono::seconds(1))) {
    }
    while (!stop) {
      uint64_t seen;
      {
        std::lock_guard<std::mutex> lock(mu_);
        seen = generation_;
      }
      for (const auto& session : informer_.List(o_.ns)) {
        if (stop) break;
        if (!SessionWantsHost(*session, o_.bc_name, host_) || tried_.count(kube::Uid(*session))) continue;
        tried_.insert(kube::Uid(*session));
        Serve(*session);
      }
      std::unique_lock<std::mutex> lock(mu_);
      for (int i = 0; i < 10 && !stop && generation_ == seen; ++i) cv_.wait_for(lock, std::chrono::milliseconds(200));
    }
    informer_.Stop();
  }

 private:
  void Log(const std::string& line) const {
    if (log_) log_(line);
  }

  void Serve(const kube::Json& session) {
    const std::string name = kube::Name(session);
    Log("BackupSession " + o_.ns + "/" + name + ": backing up host " + host_);
    HostStats stats = HostBackup(client_, events_, o_, host_, session, log_).Run();
    for (int attempt = 0; attempt < 5; ++attempt) {
      Status appended = AppendHostStats(client_, kBackupSessions, o_.ns, name, stats);
      if (appended.ok()) {
        Log("BackupSession " + o_.ns + "/" + name + ": host " + host_ + " " + stats.phase +
            (stats.error.empty() ? "" : ": " + stats.error));
        return;
      }
      Log("cannot report host " + host_ + ": " + appended.error().message());
      if (appended.error().kind() == ErrorKind::kNotFound) return;
      std::this_thread::sleep_for(std::chrono::seconds(2));
    }
  }

  kube::Client& client_;
  kube::EventRecorder& events_;
  const RunBackupOptions& o_;
  std::string host_;
  const kube::LogFn& log_;
  kube::Informer informer_;
  std::set<std::string> tried_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t generation_ = 0;
};

}  // namespace

std::string BackupLeaseName(const std::string& kind, const std::string& name) {
  return "lock-" + AsciiLower(kind) + "-" + name + "-backup";
}

bool SessionWantsHost(const kube::Json& session, const std::string& bc_name, const std::string& host) {
  if (kube::StringAt(session, "/spec/backupConfiguration/name") != bc_name) return false;
  if (kube::StringAt(session, "/status/phase") != "Running") return false;
  return !HostEntry(session, host).has_value();
}

HostStats BackupHostForSession(kube::Client& client, kube::EventRecorder& events, const RunBackupOptions& options,
                               const std::string& host, const kube::Json& session, const kube::LogFn& log) {
  return HostBackup(client, events, options, host, session, log).Run();
}

int RunBackupSidecar(kube::Client& client, const RunBackupOptions& options, const std::atomic<bool>& stop,
                     const kube::LogFn& log) {
  auto kind = CanonicalKind(options.target_kind);
  if (!kind.ok()) {
    if (log) log(kind.error().message());
    return 1;
  }
  RunBackupOptions o = options;
  o.target_kind = *kind;
  auto host = V1beta1Hostname(o.target_kind, o.pod_name, o.node_name);
  if (!host.ok()) {
    if (log) log(host.error().message());
    return 1;
  }
  std::string me = o.pod_name.empty() ? *host : o.pod_name;
  kube::EventRecorder events(&client, "stash-backup", o.node_name.empty() ? me : o.node_name, log);
  Workload workload{o.target_kind, o.target_name, o.pod_name, o.node_name};
  if (!SharesRepository(workload)) {
    if (log) log("backing up as host " + *host + " for BackupConfiguration " + o.ns + "/" + o.bc_name);
    SessionLoop(client, events, o, *host, log).Run(stop);
    return 0;
  }
  kube::LeaderElectionConfig election;
  election.ns = o.ns;
  election.name = BackupLeaseName(o.target_kind, o.target_name);
  election.identity = me;
  election.lease_duration = o.lease_duration;
  election.renew_deadline = o.renew_deadline;
  election.retry_period = o.retry_period;
  kube::LeaderElector elector(&client, election, log);
  if (log) log("waiting to lead " + o.ns + "/" + election.name + " as " + me + " (host " + *host + ")");
  elector.Run([&](const std::atomic<bool>& lost) { SessionLoop(client, events, o, *host, log).Run(lost); }, stop);
  return 0;
}

}  // namespace stash::agent
