#include "agent/v1beta1_restore.h"

#include <set>
#include <thread>

#include "agent/recovery.h"
#include "agent/recovery_snapshot.h"
#include "agent/v1beta1_session.h"
#include "agent/workload.h"
#include "kube/events.h"
#include "stashapi/go_duration.h"
#include "storage/lock.h"

namespace stash::agent {
namespace {

using Steady = std::chrono::steady_clock;

// A rule's snapshot as named: the id (or a prefix of it), or the
// Snapshot object's name <repository>-<id prefix>.
std::string SnapshotIdOf(const std::string& name, const std::string& repository_name) {
  const std::string prefix = repository_name + "-";
  if (!repository_name.empty() && name.rfind(prefix, 0) == 0) return name.substr(prefix.size());
  return name;
}

Result<kube::ObjectPtr> ReadSession(kube::Client& client, const std::string& ns, const std::string& name) {
  const std::string what = "RestoreSession " + ns + "/" + name;
  auto session = client.Get(kRestoreSessions, ns, name);
  if (!session.ok()) {
    if (session.error().kind() == ErrorKind::kNotFound) return NotFound(what + " not found");
    return session.error().Wrap(what);
  }
  return session;
}

Status Restore(kube::Client& client, const RestoreSessionSpec& spec, const std::string& host, const kube::LogFn& log) {
  const RestoreRule* rule = spec.RuleFor(host);
  if (!rule) {
    return NotFound("RestoreSession " + spec.ns + "/" + spec.name + " has no rule for host " + host);
  }
  STASH_ASSIGN_OR_RETURN(V1beta1Repository repo, ReadV1beta1Repository(client, spec.ns, spec.repository_name));
  STASH_ASSIGN_OR_RETURN(auto opened, OpenV1beta1Repository(repo, host, /*create=*/false));
  Repository& r = *opened.repo;
  STASH_ASSIGN_OR_RETURN(auto lock, AcquireLockRetrying(r, LockMode::kShared, kLockRetry));
  STASH_ASSIGN_OR_RETURN(auto snapshots, r.LoadAllSnapshots());
  auto plan = PlanRestore(snapshots, *rule, host, spec.repository_name);
  if (!plan.ok()) return plan.error().Wrap("repository " + opened.location);
  STASH_RETURN_IF_ERROR(r.LoadIndex());
  for (const auto& item : *plan) STASH_RETURN_IF_ERROR(RestorePathFrom(r, item.entry, item.path, log));
  return Status::Ok();
}

}  // namespace

Result<std::vector<RestorePlanItem>> PlanRestore(const std::vector<SnapshotEntry>& snapshots, const RestoreRule& rule,
                                                 const std::string& host, const std::string& repository_name) {
  std::vector<RestorePlanItem> plan;
  const std::string source = rule.source_host.empty() ? host : rule.source_host;
  if (!rule.snapshots.empty()) {
    for (const auto& name : rule.snapshots) {
      Result<SnapshotEntry> entry = NotFound("no snapshot of host " + source + " to restore");
      if (name == "latest") {  // restic's name for the newest (of the source host)
        std::vector<SnapshotEntry> own;
        for (const auto& e : snapshots) {
          if (e.second.hostname == source) own.push_back(e);
        }
        SortByTime(own);
        if (!own.empty()) entry = own.back();
      } else {
        entry = ChooseSnapshot(snapshots, SnapshotIdOf(name, repository_name), "", "");
      }
      if (!entry.ok()) return entry.error().Wrap("snapshot " + name);
      for (const auto& path : entry->second.paths) plan.push_back({*entry, path});
    }
    return plan;
  }
  std::vector<std::string> paths = rule.paths;
  if (paths.empty()) {
    std::set<std::string> seen;
    for (const auto& [id, snapshot] : snapshots) {
      if (snapshot.hostname != source) continue;
      for (const auto& p : snapshot.paths) {
        if (seen.insert(p).second) paths.push_back(p);
      }
    }
    if (paths.empty()) return NotFound("no snapshot of host " + source + " to restore");
  }
  for (const auto& path : paths) {
    STASH_ASSIGN_OR_RETURN(SnapshotEntry entry, ChooseSnapshot(snapshots, "", source, path));
    plan.push_back({entry, path});
  }
  return plan;
}

Result<RestoreOutcome> RunRestoreSession(kube::Client& client, const RestoreSessionOptions& o, const kube::LogFn& log) {
  STASH_ASSIGN_OR_RETURN(std::string kind, CanonicalKind(o.target_kind));
  STASH_ASSIGN_OR_RETURN(std::string host, V1beta1Hostname(kind, o.pod_name, o.node_name));
  STASH_ASSIGN_OR_RETURN(kube::ObjectPtr session, ReadSession(client, o.ns, o.name));
  // The operator sets Running (and totalHosts) first; give it a moment.
  auto waited = Steady::now();
  while (kube::StringAt(*session, "/status/phase").empty() && Steady::now() - waited < o.wait_running) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    STASH_ASSIGN_OR_RETURN(session, ReadSession(client, o.ns, o.name));
  }
  RestoreOutcome out;
  if (auto entry = HostEntry(*session, host)) {
    out.skipped = true;
    out.stats = *entry;
    if (log) log("RestoreSession " + o.ns + "/" + o.name + ": host " + host + " already " + entry->phase +
                 ", restoring nothing again");
    return out;
  }
  const std::string phase = kube::StringAt(*session, "/status/phase");
  if (phase == "Succeeded" || phase == "Failed") {
    out.skipped = true;
    out.stats.hostname = host;
    out.stats.phase = phase;
    if (log) log("RestoreSession " + o.ns + "/" + o.name + " is " + phase + ", restoring nothing");
    return out;
  }
  auto began = Steady::now();
  Status done = [&]() -> Status {
    STASH_ASSIGN_OR_RETURN(RestoreSessionSpec spec, ParseRestoreSession(*session));
    return Restore(client, spec, host, log);
  }();
  auto took = Steady::now() - began;
  out.stats.hostname = host;
  out.stats.phase = done.ok() ? "Succeeded" : "Failed";
  out.stats.duration = FormatGoDuration(std::chrono::duration_cast<std::chrono::nanoseconds>(took).count());
  if (!done.ok()) out.stats.error = done.error().message();

  kube::EventRecorder events(&client, "stash-restore", o.node_name.empty() ? o.pod_name : o.node_name, log);
  auto ref = kube::ObjectReference::Of(*session);
  if (done.ok()) {
    events.Normal(ref, "HostRestoreSucceeded", "Restored host " + host);
  } else {
    events.Warning(ref, "HostRestoreFailed", "Failed to restore host " + host + ": " + out.stats.error);
  }
  Status appended = AppendHostStats(client, kRestoreSessions, o.ns, o.name, out.stats);
  if (!appended.ok() && log) log("cannot report host " + host + ": " + appended.error().message());
  PushV1beta1Metrics(o.pushgateway_url, "stash-restore", o.ns, "restore_session", o.name, host,
                     RestoreMetricsText(done.ok(), std::chrono::duration<double>(took).count()), log);
  return out;
}

}  // namespace stash::agent
