#include "stashapi/v1beta1_task.h"

#include <rapidjson/pointer.h>

#include <algorithm>

#include "base/json_out.h"
#include "base/json_util.h"
#include "base/string_util.h"

namespace stash {
namespace {

using Json = rapidjson::Value;
using Doc = rapidjson::Document;
using json::StringAt;
using json::StringOr;

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

void SetIf(SubstInputs& in, const std::string& key, const std::string& value) {
  if (!value.empty()) in[key] = value;
}

void Upsert(SubstInputs& into, const SubstInputs& from) {
  for (const auto& [k, v] : from) into[k] = v;
}

std::string Plural(const std::string& kind) {
  std::string lower = AsciiLower(kind);
  if (lower.empty()) return lower;
  if (lower.back() == 's') return lower + "es";
  if (lower.back() == 'y') return lower.substr(0, lower.size() - 1) + "ies";
  return lower + "s";
}

// The container keys a Function and runtime settings may give.
constexpr const char* kFunctionKeys[] = {"image", "command", "args", "workingDir", "ports", "volumeMounts",
                                         "volumeDevices"};
constexpr const char* kContainerSettings[] = {"resources", "livenessProbe", "readinessProbe", "lifecycle",
                                              "securityContext"};
constexpr const char* kPodSettings[] = {"nodeSelector", "serviceAccountName", "automountServiceAccountToken",
                                        "nodeName", "securityContext", "imagePullSecrets", "affinity",
                                        "schedulerName", "tolerations", "priorityClassName", "priority",
                                        "readinessGates", "runtimeClassName", "enableServiceLinks"};

void Put(Doc& doc, Json& object, const char* key, const Json& value) {
  Json k(key, doc.GetAllocator());
  Json v(value, doc.GetAllocator());
  if (object.HasMember(key)) object.RemoveMember(key);
  object.AddMember(k, v, doc.GetAllocator());
}

// Appends `from`'s entries to the array `key` of `object`; an entry whose
// name is already there replaces it.
void MergeNamed(Doc& doc, Json& object, const char* key, const Json& from) {
  if (!from.IsArray()) return;
  if (!object.HasMember(key) || !object[key].IsArray()) Put(doc, object, key, Json(rapidjson::kArrayType));
  Json& to = object[key];
  for (const auto& e : from.GetArray()) {
    std::string name = StringOr(e, "name");
    if (!name.empty()) {
      for (auto it = to.Begin(); it != to.End(); ++it) {
        if (StringOr(*it, "name") == name) {
          to.Erase(it);
          break;
        }
      }
    }
    to.PushBack(Json(e, doc.GetAllocator()), doc.GetAllocator());
  }
}

// Container runtime settings (a ContainerRuntimeSettings object) onto a container.
void ApplyContainerSettings(Doc& doc, Json& container, const Json* settings) {
  if (!settings || !settings->IsObject()) return;
  for (const char* key : kContainerSettings) {
    if (const Json* v = json::Member(*settings, key)) Put(doc, container, key, *v);
  }
  if (const Json* env = json::Member(*settings, "env")) MergeNamed(doc, container, "env", *env);
  if (const Json* env_from = json::Member(*settings, "envFrom"); env_from && env_from->IsArray()) {
    if (!container.HasMember("envFrom")) Put(doc, container, "envFrom", Json(rapidjson::kArrayType));
    for (const auto& e : env_from->GetArray()) container["envFrom"].PushBack(Json(e, doc.GetAllocator()), doc.GetAllocator());
  }
}

Result<Doc> ParseJson(const std::string& text, const std::string& what) {
  Doc d;
  d.Parse(text.data(), text.size());
  if (d.HasParseError()) return Invalid(what + " is not JSON after its variables were filled in (a value holding \"?)");
  return d;
}

std::string FunctionContainerName(const std::string& function, size_t i) {
  std::string name = function;
  std::replace(name.begin(), name.end(), '.', '-');
  return name + "-" + std::to_string(i);
}

}  // namespace

SubstInputs RepositoryInputs(const Json& repository) {
  SubstInputs in;
  in["REPOSITORY_NAME"] = StringAt(repository, "/metadata/name");
  const Json* backend = json::At(repository, "/spec/backend");
  if (!backend || !backend->IsObject()) return in;
  SetIf(in, "REPOSITORY_SECRET_NAME", StringOr(*backend, "storageSecretName"));
  for (const char* provider : {"local", "s3", "gcs", "azure", "swift", "b2", "rest"}) {
    const Json* b = json::Member(*backend, provider);
    if (!b || !b->IsObject()) continue;
    in["REPOSITORY_PROVIDER"] = provider;
    std::string p = provider;
    if (p == "local") {
      SetIf(in, "REPOSITORY_BUCKET", StringOr(*b, "mountPath"));
      SetIf(in, "REPOSITORY_PREFIX", StringOr(*b, "subPath"));
    } else if (p == "rest") {
      SetIf(in, "REPOSITORY_URL", StringOr(*b, "url"));
    } else {
      SetIf(in, "REPOSITORY_BUCKET", StringOr(*b, p == "azure" || p == "swift" ? "container" : "bucket"));
      SetIf(in, "REPOSITORY_PREFIX", StringOr(*b, "prefix"));
      if (p == "s3") SetIf(in, "REPOSITORY_ENDPOINT", StringOr(*b, "endpoint"));
    }
    if (int64_t m = json::IntOr(*b, "maxConnections"); m > 0) in["MAX_CONNECTIONS"] = std::to_string(m);
    break;
  }
  return in;
}

SubstInputs TargetInputs(const V1beta1Target& target, const std::string& ns) {
  SubstInputs in;
  in["TARGET_NAME"] = target.ref.name;
  SetIf(in, "TARGET_API_VERSION", target.ref.api_version);
  in["TARGET_KIND"] = AsciiLower(target.ref.kind);
  in["TARGET_RESOURCE"] = Plural(target.ref.kind);
  in["TARGET_NAMESPACE"] = ns;
  Doc mounts;
  mounts.Parse(target.volume_mounts_json.c_str());
  if (!mounts.HasParseError() && mounts.IsArray() && !mounts.Empty()) {
    SetIf(in, "TARGET_MOUNT_PATH", StringOr(mounts[0], "mountPath"));
  }
  SetIf(in, "TARGET_PATHS", Join(target.paths));
  return in;
}

SubstInputs AppBindingInputs(const Json& appbinding) {
  SubstInputs in;
  std::string type = StringAt(appbinding, "/spec/type");
  SetIf(in, "TARGET_APP_TYPE", type);
  size_t slash = type.find('/');
  if (slash != std::string::npos) {
    in["TARGET_APP_GROUP"] = type.substr(0, slash);
    in["TARGET_APP_RESOURCE"] = type.substr(slash + 1);
  }
  SetIf(in, "TARGET_APP_VERSION", StringAt(appbinding, "/spec/version"));
  return in;
}

SubstInputs RetentionInputs(const RetentionPolicy& p) {
  SubstInputs in;
  auto count = [&](const char* key, int n) {
    if (n > 0) in[key] = std::to_string(n);
  };
  count("RETENTION_KEEP_LAST", p.keep_last);
  count("RETENTION_KEEP_HOURLY", p.keep_hourly);
  count("RETENTION_KEEP_DAILY", p.keep_daily);
  count("RETENTION_KEEP_WEEKLY", p.keep_weekly);
  count("RETENTION_KEEP_MONTHLY", p.keep_monthly);
  count("RETENTION_KEEP_YEARLY", p.keep_yearly);
  SetIf(in, "RETENTION_KEEP_TAGS", Join(p.keep_tags));
  if (p.prune) in["RETENTION_PRUNE"] = "true";
  if (p.dry_run) in["RETENTION_DRY_RUN"] = "true";
  return in;
}

SubstInputs SettingsInputs(const std::string& runtime_settings_json, const std::string& temp_dir_json) {
  SubstInputs in;
  Doc temp;
  temp.Parse(temp_dir_json.c_str());
  bool no_cache = !temp.HasParseError() && temp.IsObject() && json::BoolOr(temp, "disableCaching");
  in["ENABLE_CACHE"] = no_cache ? "false" : "true";
  Doc rs;
  rs.Parse(runtime_settings_json.c_str());
  if (rs.HasParseError() || !rs.IsObject()) return in;
  auto number = [&](const char* pointer, const char* key) {
    const Json* v = json::At(rs, pointer);
    if (v && v->IsInt64()) in[key] = std::to_string(v->GetInt64());
  };
  number("/container/nice/adjustment", "NICE_ADJUSTMENT");
  number("/container/ionice/class", "IONICE_CLASS");
  number("/container/ionice/classData", "IONICE_CLASS_DATA");
  return in;
}

SubstInputs BackupJobInputs(const BackupConfigurationSpec& bc, const std::string& session, const Json& repository,
                            const Json* appbinding, const std::string& pushgateway_url) {
  SubstInputs in = RepositoryInputs(repository);
  if (bc.target) Upsert(in, TargetInputs(*bc.target, bc.ns));
  if (appbinding) Upsert(in, AppBindingInputs(*appbinding));
  Upsert(in, RetentionInputs(bc.retention));
  Upsert(in, SettingsInputs(bc.runtime_settings_json, bc.temp_dir_json));
  in["NAMESPACE"] = bc.ns;
  in["BACKUP_SESSION"] = session;
  in["HOSTNAME"] = "host-0";
  in["ENABLE_STATUS_SUBRESOURCE"] = "true";
  SetIf(in, "PROMETHEUS_PUSHGATEWAY_URL", pushgateway_url);
  return in;
}

SubstInputs RestoreJobInputs(const RestoreSessionSpec& restore, const Json& repository, const Json* appbinding,
                             const std::string& pushgateway_url) {
  SubstInputs in = RepositoryInputs(repository);
  if (restore.target) Upsert(in, TargetInputs(*restore.target, restore.ns));
  if (appbinding) Upsert(in, AppBindingInputs(*appbinding));
  Upsert(in, SettingsInputs(restore.runtime_settings_json, restore.temp_dir_json));
  in["NAMESPACE"] = restore.ns;
  in["RESTORE_SESSION"] = restore.name;
  in["HOSTNAME"] = "host-0";
  in["SOURCE_HOSTNAME"] = "host-0";
  if (const RestoreRule* rule = restore.RuleFor("host-0")) {
    if (!rule->source_host.empty()) in["SOURCE_HOSTNAME"] = rule->source_host;
    SetIf(in, "RESTORE_PATHS", Join(rule->paths));
    SetIf(in, "RESTORE_SNAPSHOTS", Join(rule->snapshots));
  }
  in["TARGET_APP_REPLICAS"] = std::to_string(restore.target ? restore.target->replicas : 1);
  in["ENABLE_STATUS_SUBRESOURCE"] = "true";
  SetIf(in, "PROMETHEUS_PUSHGATEWAY_URL", pushgateway_url);
  return in;
}

Result<std::string> TaskPodSpecJson(const Json& task_object, const FunctionLookup& functions,
                                    const TaskPodRequest& request) {
  const std::string task_name = StringAt(task_object, "/metadata/name");
  SubstInputs inputs = request.params;
  Upsert(inputs, request.inputs);
  const Json* spec = json::At(task_object, "/spec");
  auto resolved_task = EnvSubst(spec ? json::Text(spec, "{}") : "{}", inputs);
  if (!resolved_task.ok()) return resolved_task.error().Wrap("can't resolve Task " + task_name);
  STASH_ASSIGN_OR_RETURN(Doc task, ParseJson(*resolved_task, "Task " + task_name));
  auto steps = json::ArrayAt(task, "/steps");
  if (steps.empty()) return Invalid("empty steps/containers for Task " + task_name);

  Doc rs;
  rs.Parse(request.runtime_settings_json.c_str());
  if (rs.HasParseError() || !rs.IsObject()) rs.SetObject();
  Doc pod;
  pod.SetObject();
  auto& a = pod.GetAllocator();
  Json init(rapidjson::kArrayType), main(rapidjson::kArrayType);
  // A local backend: its volume, and where each container mounts it.
  Doc local;
  std::string local_mount;
  if (!request.local_backend_json.empty()) {
    local.Parse(request.local_backend_json.c_str());
    if (!local.HasParseError() && local.IsObject()) {
      JsonOut m;
      m.OpenArray().Open().Field("name", "stash-local").Field("mountPath", StringOr(local, "mountPath"));
      if (!StringOr(local, "subPath").empty()) m.Field("subPath", StringOr(local, "subPath"));
      m.Close().CloseArray();
      local_mount = m.Take();
    }
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    const Json& step = *steps[i];
    std::string fn_name = StringOr(step, "name");
    if (fn_name.empty()) return Invalid("Task " + task_name + ": step " + std::to_string(i) + " names no Function");
    const Json* fn = functions(fn_name);
    if (!fn) return Invalid("Task " + task_name + ": Function " + fn_name + " not found");
    SubstInputs fn_inputs{{"outputDir", kDefaultOutputDir}};
    for (const Json* p : json::ArrayAt(step, "/params")) {
      if (p->IsObject()) fn_inputs[StringOr(*p, "name")] = StringOr(*p, "value");
    }
    Upsert(fn_inputs, inputs);
    const Json* fn_spec = json::At(*fn, "/spec");
    auto resolved = EnvSubst(fn_spec ? json::Text(fn_spec, "{}") : "{}", fn_inputs);
    if (!resolved.ok()) {
      return Invalid("can't resolve Function " + fn_name + " for Task " + task_name + ": " + resolved.error().message());
    }
    STASH_ASSIGN_OR_RETURN(Doc f, ParseJson(*resolved, "Function " + fn_name));
    if (!f.IsObject()) return Invalid("Function " + fn_name + ": spec is not an object");
    Json c(rapidjson::kObjectType);
    c.AddMember("name", Json(FunctionContainerName(fn_name, i).c_str(), a), a);
    for (const char* key : kFunctionKeys) {
      if (const Json* v = json::Member(f, key)) Put(pod, c, key, *v);
    }
    if (!c.HasMember("image")) return Invalid("Function " + fn_name + " has no spec.image");
    c.AddMember("imagePullPolicy", "IfNotPresent", a);
    // A step that fails says why in its terminated state (the session's error).
    c.AddMember("terminationMessagePolicy", "FallbackToLogsOnError", a);
    ApplyContainerSettings(pod, c, json::Member(f, "runtimeSettings"));
    ApplyContainerSettings(pod, c, json::Member(rs, "container"));
    Doc ns_env;
    ns_env.Parse(R"([{"name":"NAMESPACE","valueFrom":{"fieldRef":{"fieldPath":"metadata.namespace"}}}])");
    MergeNamed(pod, c, "env", ns_env);
    Doc tmp;
    tmp.Parse(R"([{"name":"tmp-dir","mountPath":"/tmp"}])");
    MergeNamed(pod, c, "volumeMounts", tmp);
    if (!local_mount.empty()) {
      Doc m;
      m.Parse(local_mount.c_str());
      MergeNamed(pod, c, "volumeMounts", m);
    }
    (i + 1 < steps.size() ? init : main).PushBack(c, a);
  }
  pod.AddMember("serviceAccountName", Json(kV1beta1ServiceAccount, a), a);
  pod.AddMember("restartPolicy", "Never", a);
  if (!init.Empty()) pod.AddMember("initContainers", init, a);
  pod.AddMember("containers", main, a);
  // The Task's volumes, then tmp-dir with the tempDir settings.
  Json volumes(rapidjson::kArrayType);
  pod.AddMember("volumes", volumes, a);
  if (const Json* v = json::Member(task, "volumes")) MergeNamed(pod, pod, "volumes", *v);
  Doc temp;
  temp.Parse(request.temp_dir_json.c_str());
  JsonOut tmp_volume;
  tmp_volume.OpenArray().Open().Field("name", "tmp-dir").Key("emptyDir").Open();
  if (!temp.HasParseError() && temp.IsObject()) {
    if (auto medium = StringOr(temp, "medium"); !medium.empty()) tmp_volume.Field("medium", medium);
    if (const Json* limit = json::Member(temp, "sizeLimit")) tmp_volume.Key("sizeLimit").Raw(json::Text(limit, "\"\""));
  }
  tmp_volume.Close().Close().CloseArray();
  Doc tmp_doc;
  tmp_doc.Parse(tmp_volume.str().c_str());
  MergeNamed(pod, pod, "volumes", tmp_doc);
  if (!local_mount.empty()) {
    JsonOut v;
    v.OpenArray().Open().Field("name", "stash-local");
    for (const auto& m : local.GetObject()) {
      std::string key(m.name.GetString(), m.name.GetStringLength());
      if (key != "mountPath" && key != "subPath") v.Key(key).Raw(json::Text(&m.value, "null"));
    }
    v.Close().CloseArray();
    Doc vd;
    vd.Parse(v.str().c_str());
    MergeNamed(pod, pod, "volumes", vd);
  }
  if (const Json* p = json::Member(rs, "pod"); p && p->IsObject()) {
    for (const char* key : kPodSettings) {
      if (const Json* v = json::Member(*p, key)) Put(pod, pod, key, *v);
    }
  }
  return json::Text(&pod, "{}");
}

}  // namespace stash
