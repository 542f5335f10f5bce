#include "stashapi/v1beta1_spec.h"

#include "base/json_out.h"
#include "base/json_util.h"

namespace stash {
namespace {

using Json = rapidjson::Value;
using json::ArrayAt;
using json::StringAt;
using json::StringOr;

std::string Named(const Json& object, const char* kind) {
  return std::string(kind) + " " + StringAt(object, "/metadata/namespace") + "/" + StringAt(object, "/metadata/name");
}

TaskRef TaskRefAt(const Json& object) {
  TaskRef t;
  t.name = StringAt(object, "/spec/task/name");
  for (const Json* p : ArrayAt(object, "/spec/task/params")) {
    if (p->IsObject()) t.params.emplace_back(StringOr(*p, "name"), StringOr(*p, "value"));
  }
  return t;
}

// spec.target; nullopt when absent. kInvalid when its ref names no kind or name.
Result<std::optional<V1beta1Target>> TargetAt(const Json& object) {
  const Json* target = json::At(object, "/spec/target");
  if (!target || !target->IsObject()) return std::optional<V1beta1Target>();
  V1beta1Target t;
  t.ref.api_version = StringAt(*target, "/ref/apiVersion");
  t.ref.kind = StringAt(*target, "/ref/kind");
  t.ref.name = StringAt(*target, "/ref/name");
  if (t.ref.kind.empty() || t.ref.name.empty()) return Invalid("spec.target.ref needs a kind and a name");
  t.paths = json::Strings(*target, "paths");
  t.volume_mounts_json = json::Text(json::Member(*target, "volumeMounts"), "[]");
  const Json* replicas = json::Member(*target, "replicas");
  if (replicas && replicas->IsInt()) t.replicas = replicas->GetInt();
  return std::optional<V1beta1Target>(std::move(t));
}

Result<BackupConfigurationSpec> BackupConfiguration(const Json& object) {
  BackupConfigurationSpec s;
  s.ns = StringAt(object, "/metadata/namespace");
  s.name = StringAt(object, "/metadata/name");
  s.uid = StringAt(object, "/metadata/uid");
  s.schedule = StringAt(object, "/spec/schedule");
  if (s.schedule.empty()) return Invalid("spec.schedule is missing");
  std::string driver = StringAt(object, "/spec/driver");
  if (!driver.empty()) s.driver = driver;
  if (s.driver != "Restic" && s.driver != "VolumeSnapshotter") return Invalid("spec.driver " + driver + " is unknown");
  s.repository_name = StringAt(object, "/spec/repository/name");
  if (s.repository_name.empty()) return Invalid("spec.repository.name is missing");
  s.task = TaskRefAt(object);
  STASH_ASSIGN_OR_RETURN(s.target, TargetAt(object));
  if (const Json* policy = json::At(object, "/spec/retentionPolicy")) s.retention = ParseRetentionPolicy(*policy);
  const Json* paused = json::At(object, "/spec/paused");
  s.paused = paused && paused->IsBool() && paused->GetBool();
  s.runtime_settings_json = json::Text(json::At(object, "/spec/runtimeSettings"), "{}");
  s.temp_dir_json = json::Text(json::At(object, "/spec/tempDir"), "{}");
  return s;
}

Result<RestoreSessionSpec> RestoreSession(const Json& object) {
  RestoreSessionSpec s;
  s.ns = StringAt(object, "/metadata/namespace");
  s.name = StringAt(object, "/metadata/name");
  s.uid = StringAt(object, "/metadata/uid");
  std::string driver = StringAt(object, "/spec/driver");
  if (!driver.empty()) s.driver = driver;
  s.repository_name = StringAt(object, "/spec/repository/name");
  if (s.repository_name.empty()) return Invalid("spec.repository.name is missing");
  s.task = TaskRefAt(object);
  STASH_ASSIGN_OR_RETURN(s.target, TargetAt(object));
  auto rules = ArrayAt(object, "/spec/rules");
  for (size_t i = 0; i < rules.size(); ++i) {
    if (!rules[i]->IsObject()) continue;
    RestoreRule r;
    r.target_hosts = json::Strings(*rules[i], "targetHosts");
    r.source_host = StringOr(*rules[i], "sourceHost");
    r.snapshots = json::Strings(*rules[i], "snapshots");
    r.paths = json::Strings(*rules[i], "paths");
    if (!r.snapshots.empty() && !r.paths.empty()) {
      return Invalid("spec.rules[" + std::to_string(i) + "] names both snapshots and paths");
    }
    s.rules.push_back(std::move(r));
  }
  s.runtime_settings_json = json::Text(json::At(object, "/spec/runtimeSettings"), "{}");
  s.temp_dir_json = json::Text(json::At(object, "/spec/tempDir"), "{}");
  return s;
}

}  // namespace

Result<BackupConfigurationSpec> ParseBackupConfiguration(const Json& object) {
  auto spec = BackupConfiguration(object);
  if (!spec.ok()) return spec.error().Wrap(Named(object, "BackupConfiguration"));
  return spec;
}

Result<RestoreSessionSpec> ParseRestoreSession(const Json& object) {
  auto spec = RestoreSession(object);
  if (!spec.ok()) return spec.error().Wrap(Named(object, "RestoreSession"));
  return spec;
}

const RestoreRule* RestoreSessionSpec::RuleFor(const std::string& host) const {
  const RestoreRule* fallback = nullptr;
  for (const auto& rule : rules) {
    if (rule.target_hosts.empty()) {
      fallback = &rule;
      continue;
    }
    for (const auto& h : rule.target_hosts) {
      if (h == host) return &rule;
    }
  }
  return fallback;
}

std::string HostStatsJson(const HostStats& stats) {
  JsonOut out;
  out.Open().Field("hostname", stats.hostname).Field("phase", stats.phase);
  if (!stats.duration.empty()) out.Field("duration", stats.duration);
  if (!stats.error.empty()) out.Field("error", stats.error);
  if (!stats.snapshots.empty()) {
    out.Key("snapshots").OpenArray();
    for (const auto& s : stats.snapshots) {
      out.Open().Field("name", s.name).Field("path", s.path).Field("size", s.size).Field("uploaded", s.uploaded);
      out.Field("processingTime", s.processing_time).Key("fileStats").Open();
      out.Key("totalFiles").Uint(s.total_files).Key("newFiles").Uint(s.new_files);
      out.Key("modifiedFiles").Uint(s.modified_files).Key("unmodifiedFiles").Uint(s.unmodified_files);
      out.Close().Close();
    }
    out.CloseArray();
  }
  out.Close();
  return out.Take();
}

std::vector<HostStats> ParseHostStats(const Json& session) {
  std::vector<HostStats> out;
  for (const Json* entry : ArrayAt(session, "/status/stats")) {
    if (!entry->IsObject()) continue;
    HostStats h;
    h.hostname = StringOr(*entry, "hostname");
    h.phase = StringOr(*entry, "phase");
    h.duration = StringOr(*entry, "duration");
    h.error = StringOr(*entry, "error");
    for (const Json* snap : ArrayAt(*entry, "/snapshots")) {
      if (!snap->IsObject()) continue;
      SnapshotStats s;
      s.name = StringOr(*snap, "name");
      s.path = StringOr(*snap, "path");
      s.size = StringOr(*snap, "size");
      s.uploaded = StringOr(*snap, "uploaded");
      s.processing_time = StringOr(*snap, "processingTime");
      if (const Json* files = json::Member(*snap, "fileStats")) {
        s.total_files = json::Uint(*files, "totalFiles").value_or(0);
        s.new_files = json::Uint(*files, "newFiles").value_or(0);
        s.modified_files = json::Uint(*files, "modifiedFiles").value_or(0);
        s.unmodified_files = json::Uint(*files, "unmodifiedFiles").value_or(0);
      }
      h.snapshots.push_back(std::move(s));
    }
    out.push_back(std::move(h));
  }
  return out;
}

Result<std::string> V1beta1Hostname(const std::string& target_kind, const std::string& pod_name,
                                    const std::string& node_name) {
  if (target_kind == "StatefulSet") {
    if (pod_name.empty()) return Invalid("missing 'POD_NAME' env in StatefulSet");
    size_t dash = pod_name.rfind('-');
    return "host-" + pod_name.substr(dash == std::string::npos ? 0 : dash + 1);
  }
  if (target_kind == "DaemonSet") {
    if (node_name.empty()) return Invalid("missing 'NODE_NAME' env in DaemonSet");
    return node_name;
  }
  return std::string("host-0");
}

}  // namespace stash
