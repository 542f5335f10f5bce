#include "operator/v1beta1_objects.h"

#include <sstream>

#include "base/json_out.h"
#include "kube/events.h"
#include "operator/sidecar.h"
#include "base/json_util.h"
#include "stashapi/cron.h"
#include "stashapi/envsubst.h"
#include "stashapi/go_duration.h"
#include "stashapi/v1beta1_task.h"

namespace stash::op {
namespace {

std::vector<std::string> Fields(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

int64_t IntAt(const kube::Json& object, const char* pointer, int64_t fallback) {
  const kube::Json* v = kube::At(object, pointer);
  return v && v->IsInt64() ? v->GetInt64() : fallback;
}

void Owner(JsonOut& j, const kube::Json& owner, const kube::Resource& r, bool controller) {
  j.Key("ownerReferences").OpenArray().Open().Field("apiVersion", r.ApiVersion())
      .Field("kind", r.kind).Field("name", kube::Name(owner)).Field("uid", kube::Uid(owner));
  if (controller) j.FieldBool("controller", true).FieldBool("blockOwnerDeletion", true);
  j.Close().CloseArray();
}

void ManagedLabels(JsonOut& j, const std::vector<std::pair<std::string, std::string>>& extra) {
  j.Key("labels").Open().Field(kManagedByLabel, kManagedBy);
  for (const auto& [k, v] : extra) j.Field(k, v);
  j.Close();
}

}  // namespace

std::string Dashed(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    if (c == '.') c = '-';
  }
  return out;
}

Result<std::string> BackupCronSchedule(const std::string& schedule) {
  auto fields = Fields(schedule);
  const std::string what = "schedule \"" + schedule + "\"";
  if (fields.empty()) return Invalid(what + " is empty");
  if (fields[0] == "@every") {
    if (fields.size() != 2) return Invalid(what + ": @every takes one duration");
    auto d = ParseGoDuration(fields[1]);
    if (!d.ok()) return Invalid(what + ": " + d.error().message());
    constexpr int64_t kMinute = 60'000'000'000LL;
    if (*d == 60 * kMinute) return std::string("0 * * * *");
    if (*d > 0 && *d % kMinute == 0 && 60 % (*d / kMinute) == 0) {
      int64_t n = *d / kMinute;
      return n == 1 ? std::string("* * * * *") : "*/" + std::to_string(n) + " * * * *";
    }
    return Invalid(what + ": a CronJob can only run @every N minutes where N divides 60, or @every 1h; "
                   "write it as five cron fields");
  }
  if (fields[0].starts_with("@")) {
    static const char* kMacros[] = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"};
    for (const char* m : kMacros) {
      if (fields.size() == 1 && fields[0] == m) return schedule;
    }
    return Invalid(what + ": unknown descriptor " + fields[0]);
  }
  if (fields.size() != 5) {
    return Invalid(what + " has " + std::to_string(fields.size()) + " fields; a CronJob takes five");
  }
  auto parsed = CronSchedule::Parse(schedule);
  if (!parsed.ok()) return parsed.error();
  return schedule;
}

Result<std::string> BackupCronJobJson(const kube::Json& bc, const std::string& image) {
  const std::string name = kube::Name(bc), ns = kube::Namespace(bc);
  auto schedule = BackupCronSchedule(kube::StringAt(bc, "/spec/schedule"));
  if (!schedule.ok()) return schedule.error();
  std::vector<std::pair<std::string, std::string>> labels = {{kBackupConfigurationLabel, name}};
  JsonOut j;
  j.Open().Field("apiVersion", "batch/v1").Field("kind", "CronJob");
  j.Key("metadata").Open().Field("name", Dashed(name)).Field("namespace", ns);
  ManagedLabels(j, labels);
  Owner(j, bc, kBackupConfigurations, true);
  j.Close();
  j.Key("spec").Open().Field("schedule", *schedule).Field("concurrencyPolicy", "Forbid")
      .FieldInt("successfulJobsHistoryLimit", 1).FieldInt("failedJobsHistoryLimit", 1);
  j.Key("jobTemplate").Open().Key("metadata").Open();
  ManagedLabels(j, {{kBackupConfigurationLabel, name}, {kDeleteJobLabel, "true"}});
  j.Close();
  j.Key("spec").Open().FieldInt("backoffLimit", 2).Key("template").Open().Key("metadata").Open();
  ManagedLabels(j, {{kBackupConfigurationLabel, name}, {kDeleteJobLabel, "true"}});
  j.Close();
  j.Key("spec").Open().Field("restartPolicy", "Never").Field("serviceAccountName", kV1beta1ServiceAccount);
  j.Key("containers").OpenArray().Open().Field("name", "stash").Field("image", image)
      .Field("imagePullPolicy", "IfNotPresent");
  j.FieldStrings("args", {"create-backupsession", "--backupsession.name=" + name, "--backupsession.namespace=" + ns});
  j.Close().CloseArray();
  j.Close().Close().Close().Close().Close().Close();
  return j.Take();
}

std::string V1beta1ServiceAccountJson(const std::string& ns) {
  JsonOut j;
  j.Open().Field("apiVersion", "v1").Field("kind", "ServiceAccount");
  j.Key("metadata").Open().Field("name", kV1beta1ServiceAccount).Field("namespace", ns);
  ManagedLabels(j, {});
  j.Close().Close();
  return j.Take();
}

std::string V1beta1RoleBindingJson(const std::string& ns) {
  JsonOut j;
  j.Open().Field("apiVersion", "rbac.authorization.k8s.io/v1").Field("kind", "RoleBinding");
  j.Key("metadata").Open().Field("name", kV1beta1AgentClusterRole).Field("namespace", ns);
  ManagedLabels(j, {});
  j.Close();
  j.Key("roleRef").Open().Field("apiGroup", "rbac.authorization.k8s.io").Field("kind", "ClusterRole")
      .Field("name", kV1beta1AgentClusterRole).Close();
  j.Key("subjects").OpenArray().Open().Field("kind", "ServiceAccount").Field("name", kV1beta1ServiceAccount)
      .Field("namespace", ns).Close().CloseArray();
  j.Close();
  return j.Take();
}

bool IsWorkloadKind(const std::string& kind) {
  for (const auto& r : WorkloadResources()) {
    if (r.kind == kind) return true;
  }
  return false;
}

int TotalHosts(const std::string& kind, const kube::Json* workload) {
  if (!workload) return 1;
  if (kind == "StatefulSet") return static_cast<int>(IntAt(*workload, "/spec/replicas", 1));
  if (kind == "DaemonSet") return static_cast<int>(IntAt(*workload, "/status/desiredNumberScheduled", 0));
  return 1;
}

SessionState ReadSessionState(const kube::Json& session) {
  SessionState s;
  s.phase = kube::StringAt(session, "/status/phase");
  if (const kube::Json* t = kube::At(session, "/status/totalHosts"); t && t->IsInt()) s.total_hosts = t->GetInt();
  s.stats = ParseHostStats(session);
  return s;
}

bool SessionFinished(const std::string& phase) {
  return phase == "Succeeded" || phase == "Failed" || phase == "Skipped";
}

std::optional<std::string> CompletedPhase(const SessionState& state) {
  if (!state.total_hosts) return std::nullopt;
  if (static_cast<int>(state.stats.size()) < *state.total_hosts) return std::nullopt;
  for (const auto& h : state.stats) {
    if (h.phase != "Succeeded") return std::string("Failed");
  }
  return std::string("Succeeded");
}

std::string SessionDuration(const std::vector<HostStats>& stats) {
  int64_t total = 0;
  for (const auto& h : stats) {
    if (auto d = ParseGoDuration(h.duration); d.ok()) total += *d;
  }
  return FormatGoDuration(total);
}

std::string SessionStatusPatch(const SessionUpdate& u) {
  JsonOut j;
  j.Open().Key("status").Open().Field("phase", u.phase);
  if (u.total_hosts) j.FieldInt("totalHosts", *u.total_hosts);
  if (!u.session_duration.empty()) j.Field("sessionDuration", u.session_duration);
  if (!u.reason.empty()) {
    j.Key("conditions").OpenArray().Open().Field("type", u.phase == "Failed" ? "Failed" : u.phase)
        .Field("status", "True").Field("reason", u.reason).Field("message", u.message)
        .Field("lastTransitionTime", kube::Rfc3339Now()).Close().CloseArray();
  }
  j.Close().Close();
  return j.Take();
}

std::string TaskJobJson(const kube::Json& session, const kube::Resource& kind, const std::string& name,
                        const std::vector<std::pair<std::string, std::string>>& labels,
                        const std::string& pod_spec_json) {
  std::vector<std::pair<std::string, std::string>> all = labels;
  all.emplace_back(kDeleteJobLabel, "false");
  JsonOut j;
  j.Open().Field("apiVersion", "batch/v1").Field("kind", "Job");
  j.Key("metadata").Open().Field("name", name).Field("namespace", kube::Namespace(session));
  ManagedLabels(j, all);
  Owner(j, session, kind, true);
  j.Close();
  j.Key("spec").Open().FieldInt("backoffLimit", 0).Key("template").Open().Key("metadata").Open();
  ManagedLabels(j, all);
  j.Close().Key("spec").Raw(pod_spec_json).Close().Close().Close();
  return j.Take();
}

bool JobConditionTrue(const kube::Json& job, const char* type) {
  const kube::Json* conditions = kube::At(job, "/status/conditions");
  if (!conditions || !conditions->IsArray()) return false;
  for (const auto& c : conditions->GetArray()) {
    if (kube::StringOf(c, "type") == type && kube::StringOf(c, "status") == "True") return true;
  }
  return false;
}

std::string JobFailure(const kube::Json& job, const std::vector<kube::ObjectPtr>& pods) {
  for (const auto& pod : pods) {
    for (const char* list : {"/status/initContainerStatuses", "/status/containerStatuses"}) {
      const kube::Json* statuses = kube::At(*pod, list);
      if (!statuses || !statuses->IsArray()) continue;
      for (const auto& s : statuses->GetArray()) {
        for (const char* state : {"/state/terminated", "/lastState/terminated"}) {
          const kube::Json* t = kube::At(s, state);
          if (!t || !t->IsObject()) continue;
          const kube::Json* code = kube::At(*t, "/exitCode");
          if (!code || !code->IsInt() || code->GetInt() == 0) continue;
          std::string message = kube::StringOf(*t, "message");
          while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
          if (size_t nl = message.rfind('\n'); nl != std::string::npos) message = message.substr(nl + 1);
          std::string who = "container " + kube::StringOf(s, "name") + " exited with " + std::to_string(code->GetInt());
          return message.empty() ? who : message;
        }
      }
    }
  }
  const kube::Json* conditions = kube::At(job, "/status/conditions");
  if (conditions && conditions->IsArray()) {
    for (const auto& c : conditions->GetArray()) {
      if (kube::StringOf(c, "type") == "Failed" && !kube::StringOf(c, "message").empty()) {
        return kube::StringOf(c, "message");
      }
    }
  }
  return "Job " + kube::Name(job) + " failed";
}

std::string TemplateOf(const kube::Json& workload) {
  auto annotations = kube::Annotations(workload);
  if (!annotations[kTemplateAnnotation].empty()) return annotations[kTemplateAnnotation];
  return annotations[kBlueprintAnnotation];
}

std::string AutoBackupName(const std::string& kind, const std::string& name) {
  std::string lower = kind;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower + "-" + name;
}

Result<AutoBackup> AutoBackupObjects(const kube::Json& template_object, const kube::Json& workload,
                                     const std::string& kind) {
  const std::string tname = kube::Name(template_object);
  const std::string ns = kube::Namespace(workload), name = kube::Name(workload);
  std::string api_version = "apps/v1", plural;
  for (const auto& r : WorkloadResources()) {
    if (r.kind == kind) api_version = r.ApiVersion(), plural = r.plural;
  }
  std::string lower = AutoBackupName(kind, "");
  lower.pop_back();
  SubstInputs inputs{{"TARGET_API_VERSION", api_version}, {"TARGET_KIND", lower}, {"TARGET_NAME", name},
                     {"TARGET_NAMESPACE", ns}, {"TARGET_RESOURCE", plural}};
  const kube::Json* spec = kube::At(template_object, "/spec");
  auto resolved = EnvSubst(spec ? kube::ToJson(*spec) : "{}", inputs);
  if (!resolved.ok()) return Invalid("BackupConfigurationTemplate " + tname + ": " + resolved.error().message());
  rapidjson::Document t;
  t.Parse(resolved->c_str());
  if (t.HasParseError() || !t.IsObject()) return Invalid("BackupConfigurationTemplate " + tname + ": not JSON after its variables were filled in");
  auto annotations = kube::Annotations(workload);
  std::vector<std::string> paths;
  {
    std::string list = annotations[kTargetPathsAnnotation];
    size_t at = 0;
    while (at <= list.size() && !list.empty()) {
      size_t comma = list.find(',', at);
      std::string p = list.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
      if (!p.empty()) paths.push_back(p);
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
  }
  JsonOut mounts;
  mounts.OpenArray();
  {
    std::string list = annotations[kVolumeMountsAnnotation];
    size_t at = 0;
    while (!list.empty() && at <= list.size()) {
      size_t comma = list.find(',', at);
      std::string entry = list.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
      size_t colon = entry.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 >= entry.size()) {
        return Invalid("annotation " + std::string(kVolumeMountsAnnotation) + " \"" + list +
                       "\": use 'vol1Name:mountPath,vol2Name:mountPath' format");
      }
      mounts.Open().Field("name", entry.substr(0, colon)).Field("mountPath", entry.substr(colon + 1)).Close();
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
  }
  mounts.CloseArray();
  const std::string object_name = AutoBackupName(kind, name);
  AutoBackup out;
  {
    JsonOut j;
    j.Open().Field("apiVersion", "stash.appscode.com/v1alpha1").Field("kind", "Repository");
    j.Key("metadata").Open().Field("name", object_name).Field("namespace", ns);
    j.Key("labels").Open().Field(kManagedByLabel, kManagedBy).Field(kTemplateLabel, tname).Close().Close();
    j.Key("spec").Open().Key("backend").Raw(json::Text(json::Member(t, "backend"), "{}"));
    if (const auto* wipe = json::Member(t, "wipeOut"); wipe && wipe->IsBool()) j.FieldBool("wipeOut", wipe->GetBool());
    j.Close().Close();
    out.repository_json = j.Take();
  }
  JsonOut j;
  j.Open().Field("apiVersion", "stash.appscode.com/v1beta1").Field("kind", "BackupConfiguration");
  j.Key("metadata").Open().Field("name", object_name).Field("namespace", ns);
  j.Key("labels").Open().Field(kManagedByLabel, kManagedBy).Field(kTemplateLabel, tname).Close();
  j.Key("ownerReferences").OpenArray().Open().Field("apiVersion", api_version).Field("kind", kind)
      .Field("name", name).Field("uid", kube::Uid(workload)).Close().CloseArray();
  j.Close();
  j.Key("spec").Open().Field("schedule", json::StringOr(t, "schedule"));
  j.Key("repository").Open().Field("name", object_name).Close();
  for (const char* key : {"task", "retentionPolicy", "runtimeSettings", "tempDir"}) {
    if (const auto* v = json::Member(t, key)) j.Key(key).Raw(json::Text(v, "{}"));
  }
  j.Key("target").Open().Key("ref").Open().Field("apiVersion", api_version).Field("kind", kind).Field("name", name)
      .Close();
  j.FieldStrings("paths", paths);
  j.Key("volumeMounts").Raw(mounts.str());
  j.Close().Close().Close();
  out.backup_configuration_json = j.Take();
  return out;
}

}  // namespace stash::op
