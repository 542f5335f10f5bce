#include "agent/v1beta1_session.h"

#include <rapidjson/pointer.h>

#include <cstdio>

#include "agent/host_repository.h"
#include "agent/metrics.h"
#include "agent/repository_object.h"
#include "base/format_bytes.h"
#include "base/json_out.h"
#include "kube/events.h"
#include "stashapi/go_duration.h"

namespace stash::agent {
namespace {

using rapidjson::Pointer;
using rapidjson::Value;

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void Gauge(std::string& out, const std::string& name, const std::string& help, const std::string& value) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " gauge\n" + name + " " + value + "\n";
}

}  // namespace

Result<V1beta1Repository> ReadV1beta1Repository(kube::Client& client, const std::string& ns,
                                                const std::string& name) {
  const std::string what = "Repository " + ns + "/" + name;
  auto object = client.Get(kRepositories, ns, name);
  if (!object.ok()) {
    if (object.error().kind() == ErrorKind::kNotFound) return NotFound(what + " not found");
    return object.error().Wrap(what);
  }
  V1beta1Repository out;
  STASH_ASSIGN_OR_RETURN(out.object, ParseRepository(**object));
  STASH_ASSIGN_OR_RETURN(out.secret, ReadStorageSecret(client, ns, out.object.storage_secret_name));
  return out;
}

Result<std::string> V1beta1Location(const StashBackend& backend, const std::map<std::string, std::string>& secret) {
  // The smart prefix of 0.8.3 is empty here: a local backend is its
  // mountPath, any other the backend's own location.
  return HostLocation(backend, "", secret);
}

Result<OpenedRepository> OpenV1beta1Repository(const V1beta1Repository& repo, const std::string& host, bool create) {
  return OpenHostRepository(repo.object.backend, "", repo.secret, host, create);
}

SnapshotStats SnapshotStatsOf(const BackupSummary& s, const std::string& path) {
  SnapshotStats out;
  out.name = s.snapshot_id.Short();
  out.path = path;
  out.size = FormatBytes(s.total_bytes_processed);
  out.uploaded = FormatBytes(s.data_added);
  out.processing_time = FormatGoDuration(static_cast<int64_t>(s.total_duration * 1e9));
  out.total_files = s.total_files_processed;
  out.new_files = s.files_new;
  out.modified_files = s.files_changed;
  out.unmodified_files = s.files_unmodified;
  return out;
}

std::optional<HostStats> HostEntry(const rapidjson::Value& session, const std::string& host) {
  for (auto& entry : ParseHostStats(session)) {
    if (entry.hostname == host) return entry;
  }
  return std::nullopt;
}

bool AddHostStats(rapidjson::Document& session, const HostStats& stats) {
  if (HostEntry(session, stats.hostname)) return false;
  auto& a = session.GetAllocator();
  Value* list = Pointer("/status/stats").Get(session);
  if (!list || !list->IsArray()) list = &Pointer("/status/stats").Set(session, Value(rapidjson::kArrayType));
  rapidjson::Document entry;
  std::string json = HostStatsJson(stats);
  entry.Parse(json.c_str(), json.size());
  list->PushBack(Value(entry, a), a);
  return true;
}

Status AppendHostStats(kube::Client& client, const kube::Resource& kind, const std::string& ns,
                       const std::string& name, const HostStats& stats) {
  auto add = [&](rapidjson::Document& doc) { return AddHostStats(doc, stats); };
  auto done = client.Modify(kind, ns, name, add, /*status=*/true);
  if (!done.ok()) return done.error().Wrap("status of " + kind.kind + " " + ns + "/" + name);
  return Status::Ok();
}

void RecordV1beta1Backup(rapidjson::Document& repository, std::chrono::system_clock::time_point start,
                         std::chrono::nanoseconds duration, int64_t snapshot_count) {
  RecordBackup(repository, start, duration);
  if (snapshot_count >= 0) Pointer("/status/snapshotCount").Set(repository, snapshot_count);
}

Status RecordV1beta1BackupStatus(kube::Client& client, const std::string& ns, const std::string& name,
                                 std::chrono::system_clock::time_point start, std::chrono::nanoseconds duration,
                                 int64_t snapshot_count) {
  auto record = [&](rapidjson::Document& doc) {
    RecordV1beta1Backup(doc, start, duration, snapshot_count);
    return true;
  };
  auto done = client.Modify(kRepositories, ns, name, record, /*status=*/true);
  if (!done.ok()) return done.error().Wrap("status of Repository " + ns + "/" + name);
  return Status::Ok();
}

std::string BackupMetricsText(const V1beta1BackupMetrics& m) {
  std::string out;
  Gauge(out, "stash_backup_session_success", "Indicates whether the backup of this host succeeded",
        m.success ? "1" : "0");
  Gauge(out, "stash_backup_setup_success", "Indicates whether the backup setup succeeded", m.success ? "1" : "0");
  Gauge(out, "stash_backup_session_duration_total_seconds", "Time the backup of this host took",
        Number(m.duration_seconds));
  if (m.success) {
    Gauge(out, "stash_backup_data_size_bytes", "Size of the data backed up", std::to_string(m.size_bytes));
    Gauge(out, "stash_backup_data_uploaded_bytes", "Data uploaded to the repository",
          std::to_string(m.uploaded_bytes));
    Gauge(out, "stash_backup_data_processing_time_seconds", "Time restic spent on the data",
          Number(m.processing_seconds));
    Gauge(out, "stash_backup_files_total", "Files backed up", std::to_string(m.files_total));
    Gauge(out, "stash_backup_files_new", "New files", std::to_string(m.files_new));
    Gauge(out, "stash_backup_files_modified", "Modified files", std::to_string(m.files_modified));
    Gauge(out, "stash_backup_files_unmodified", "Unmodified files", std::to_string(m.files_unmodified));
  }
  if (m.snapshot_count >= 0) {
    Gauge(out, "stash_repository_snapshot_count", "Snapshots in the repository", std::to_string(m.snapshot_count));
  }
  return out;
}

std::string RestoreMetricsText(bool success, double duration_seconds) {
  std::string out;
  Gauge(out, "stash_restore_session_success", "Indicates whether the restore of this host succeeded",
        success ? "1" : "0");
  Gauge(out, "stash_restore_session_duration_total_seconds", "Time the restore of this host took",
        Number(duration_seconds));
  return out;
}

void PushV1beta1Metrics(const std::string& url, const std::string& job, const std::string& ns,
                        const std::string& invoker_label, const std::string& invoker, const std::string& host,
                        const std::string& text, const kube::LogFn& log) {
  if (url.empty()) return;
  std::map<std::string, std::string> labels = {{"namespace", ns}, {invoker_label, invoker}, {"host", host}};
  Status pushed = PushMetrics(url, job, labels, text);
  if (!pushed.ok() && log) log("cannot push metrics: " + pushed.error().message());
}

}  // namespace stash::agent
