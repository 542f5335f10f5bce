#include "operator/v1beta1_sidecar.h"

#include <rapidjson/pointer.h>

#include <algorithm>
#include <cstdio>

#include "base/json_out.h"
#include "operator/pod_template_edit.h"

namespace stash::op {
namespace {

using Doc = rapidjson::Document;
using Value = rapidjson::Value;

constexpr const char* kVolumes[] = {"tmp-dir", "stash-podinfo", "stash-local"};

std::string Fnv64(const std::string& text) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

bool HasNamed(const Value& array, const std::string& name) {
  for (const auto& e : array.GetArray()) {
    if (kube::StringOf(e, "name") == name) return true;
  }
  return false;
}

Value Parse(Doc& doc, const std::string& json) {
  Doc parsed;
  parsed.Parse(json.data(), json.size());
  return Value(parsed, doc.GetAllocator());
}

void SetAnnotation(Doc& doc, const char* key, const std::string& value) {
  Value* metadata = rapidjson::Pointer("/metadata").Get(doc);
  if (!metadata || !metadata->IsObject()) metadata = &rapidjson::Pointer("/metadata").Set(doc, Value(rapidjson::kObjectType));
  if (!metadata->HasMember("annotations") || !(*metadata)["annotations"].IsObject()) {
    if (metadata->HasMember("annotations")) metadata->RemoveMember("annotations");
    metadata->AddMember("annotations", Value(rapidjson::kObjectType), doc.GetAllocator());
  }
  Value& annotations = (*metadata)["annotations"];
  if (annotations.HasMember(key)) {  // in place: the order stays, so a second run changes nothing
    annotations[key].SetString(value.c_str(), doc.GetAllocator());
    return;
  }
  annotations.AddMember(Value(key, doc.GetAllocator()), Value(value.c_str(), doc.GetAllocator()), doc.GetAllocator());
}

void RemoveAnnotations(Doc& doc, std::initializer_list<const char*> keys) {
  Value* annotations = rapidjson::Pointer("/metadata/annotations").Get(doc);
  if (!annotations || !annotations->IsObject()) return;
  for (const char* k : keys) annotations->RemoveMember(k);
  if (annotations->ObjectEmpty()) rapidjson::Pointer("/metadata").Get(doc)->RemoveMember("annotations");
}

std::string ContainerJson(const char* name, const std::vector<std::string>& args, const kube::Json& object,
                          const kube::Json& repository, const SidecarOptions& options, bool read_only) {
  JsonOut j;
  j.Open().Field("name", name).Field("image", options.image).Field("imagePullPolicy", "IfNotPresent");
  j.FieldStrings("args", args);
  j.Key("env").OpenArray();
  for (auto [env, path] : {std::pair<const char*, const char*>{"NODE_NAME", "spec.nodeName"},
                           {"POD_NAME", "metadata.name"}, {"NAMESPACE", "metadata.namespace"}}) {
    j.Open().Field("name", env).Key("valueFrom").Open().Key("fieldRef").Open().Field("fieldPath", path)
        .Close().Close().Close();
  }
  j.CloseArray();
  j.Key("securityContext").Open().FieldInt("runAsUser", 0).FieldInt("runAsGroup", 0).Close();
  if (const kube::Json* r = kube::At(object, "/spec/runtimeSettings/container/resources")) {
    j.Key("resources").Raw(kube::ToJson(*r));
  }
  j.Key("volumeMounts").OpenArray();
  if (const kube::Json* mounts = kube::At(object, "/spec/target/volumeMounts"); mounts && mounts->IsArray()) {
    for (const auto& m : mounts->GetArray()) {
      auto copy = kube::Clone(m);
      if (!copy->IsObject()) continue;
      if (read_only) rapidjson::Pointer("/readOnly").Set(*copy, true);
      j.Raw(kube::ToJson(*copy));
    }
  }
  j.Open().Field("name", "tmp-dir").Field("mountPath", "/tmp").Close();
  j.Open().Field("name", "stash-podinfo").Field("mountPath", "/etc/stash").Close();
  if (const kube::Json* local = kube::At(repository, "/spec/backend/local"); local && local->IsObject()) {
    j.Open().Field("name", "stash-local").Field("mountPath", kube::StringOf(*local, "mountPath"));
    if (!kube::StringOf(*local, "subPath").empty()) j.Field("subPath", kube::StringOf(*local, "subPath"));
    j.Close();
  }
  j.CloseArray();
  j.Close();
  return j.Take();
}

std::vector<std::string> VolumesJson(const kube::Json& object, const kube::Json& repository) {
  JsonOut tmp;
  tmp.Open().Field("name", "tmp-dir").Key("emptyDir").Open();
  if (const kube::Json* t = kube::At(object, "/spec/tempDir"); t && t->IsObject()) {
    if (!kube::StringOf(*t, "medium").empty()) tmp.Field("medium", kube::StringOf(*t, "medium"));
    if (const kube::Json* limit = kube::At(*t, "/sizeLimit")) tmp.Key("sizeLimit").Raw(kube::ToJson(*limit));
  }
  tmp.Close().Close();
  std::vector<std::string> out = {
      tmp.Take(),
      R"({"name":"stash-podinfo","downwardAPI":{"items":[{"path":"labels","fieldRef":{"fieldPath":"metadata.labels"}}]}})"};
  if (const kube::Json* local = kube::At(repository, "/spec/backend/local"); local && local->IsObject()) {
    JsonOut j;
    j.Open().Field("name", "stash-local");
    for (const auto& m : local->GetObject()) {
      std::string key(m.name.GetString(), m.name.GetStringLength());
      if (key != "mountPath" && key != "subPath") j.Key(key).Raw(kube::ToJson(m.value));
    }
    j.Close();
    out.push_back(j.Take());
  }
  return out;
}

Status CheckMounts(Doc& workload, const std::string& kind, const kube::Json& object, const char* what) {
  if (!kube::At(workload, "/spec/template/spec/containers")) {
    return Invalid(kind + " " + kube::KeyOf(workload) + " has no pod template");
  }
  const kube::Json* mounts = kube::At(object, "/spec/target/volumeMounts");
  if (!mounts || !mounts->IsArray()) return Status::Ok();
  Value* volumes = rapidjson::Pointer("/spec/template/spec/volumes").Get(workload);
  for (const auto& m : mounts->GetArray()) {
    std::string volume = kube::StringOf(m, "name");
    if (!volumes || !volumes->IsArray() || !HasNamed(*volumes, volume)) {
      return Invalid(std::string(what) + " " + kube::Name(object) + " mounts volume \"" + volume + "\", which " +
                     kind + " " + kube::Name(workload) + " does not have");
    }
  }
  return Status::Ok();
}

void Put(Doc& doc, Value& array, Value entry, bool first);

void AddVolumes(Doc& workload, const kube::Json& object, const kube::Json& repository) {
  Value& volumes = EnsureArray(workload, "/spec/template/spec/volumes");
  for (const auto& v : VolumesJson(object, repository)) {
    Put(workload, volumes, Parse(workload, v), false);
  }
}

// Replaces the entry of `array` with the same name in place, or adds it
// (at the end, or at the front when `first`).
void Put(Doc& doc, Value& array, Value entry, bool first) {
  std::string name = kube::StringOf(entry, "name");
  for (auto& e : array.GetArray()) {
    if (kube::StringOf(e, "name") == name) {
      e = entry;
      return;
    }
  }
  array.PushBack(entry, doc.GetAllocator());
  if (first) {
    for (size_t i = array.Size() - 1; i > 0; --i) array[i].Swap(array[i - 1]);
  }
}

std::vector<std::string> Args(const char* command, const std::string& flag, const kube::Json& object,
                              const std::string& kind, const std::string& name) {
  return {command, flag + kube::Name(object), "--target-kind=" + kind, "--target-name=" + name};
}

// Takes out one of the two; the volumes go when neither is left.
bool RemoveOne(Doc& workload, bool backup) {
  std::string before = kube::ToJson(workload);
  const char* names[] = {backup ? kSidecarName : kRestoreInitName};
  EraseNamed(rapidjson::Pointer(backup ? "/spec/template/spec/containers" : "/spec/template/spec/initContainers")
                 .Get(workload), names);
  if (backup) {
    RemoveAnnotations(workload, {kLastAppliedBackupConfiguration, kLastAppliedBackupConfigurationHash});
  } else {
    RemoveAnnotations(workload, {kLastAppliedRestoreSession, kLastAppliedRestoreSessionHash});
  }
  if (AppliedBackupConfiguration(workload).empty() && AppliedRestoreSession(workload).empty()) {
    EraseNamed(rapidjson::Pointer("/spec/template/spec/volumes").Get(workload), kVolumes);
    DropEmptyArray(workload, "/spec/template/spec", "volumes");
  }
  DropEmptyArray(workload, "/spec/template/spec", "initContainers");
  return kube::ToJson(workload) != before;
}

}  // namespace

std::string AppliedBackupConfiguration(const kube::Json& workload) {
  std::string applied = kube::Annotations(workload)[kLastAppliedBackupConfiguration];
  if (applied.empty()) return "";
  rapidjson::Document d;
  d.Parse(applied.c_str());
  std::string name = d.HasParseError() ? "" : kube::StringAt(d, "/metadata/name");
  return name.empty() ? "?" : name;
}

std::string AppliedRestoreSession(const kube::Json& workload) {
  std::string applied = kube::Annotations(workload)[kLastAppliedRestoreSession];
  if (applied.empty()) return "";
  rapidjson::Document d;
  d.Parse(applied.c_str());
  std::string name = d.HasParseError() ? "" : kube::StringAt(d, "/metadata/name");
  return name.empty() ? "?" : name;
}

bool TargetsWorkload(const kube::Json& object, const std::string& kind, const std::string& name) {
  if (kube::BeingDeleted(object)) return false;
  std::string driver = kube::StringAt(object, "/spec/driver");
  if (!driver.empty() && driver != "Restic") return false;
  return kube::StringAt(object, "/spec/target/ref/kind") == kind && kube::StringAt(object, "/spec/target/ref/name") == name;
}

bool RemoveBackupSidecar(Doc& workload) {
  return !AppliedBackupConfiguration(workload).empty() && RemoveOne(workload, true);
}

bool RemoveRestoreInit(Doc& workload) {
  return !AppliedRestoreSession(workload).empty() && RemoveOne(workload, false);
}

bool RemoveV1beta1(Doc& workload) {
  bool changed = false;
  if (!AppliedBackupConfiguration(workload).empty()) changed |= RemoveOne(workload, true);
  if (!AppliedRestoreSession(workload).empty()) changed |= RemoveOne(workload, false);
  return changed;
}

Result<bool> InjectBackupSidecar(Doc& workload, const std::string& kind, const kube::Json& bc,
                                 const kube::Json& repository, const SidecarOptions& options) {
  STASH_RETURN_IF_ERROR(CheckMounts(workload, kind, bc, "BackupConfiguration"));
  std::string before = kube::ToJson(workload);
  auto args = Args("run-backup", "--backupconfiguration=", bc, kind, kube::Name(workload));
  if (!options.pushgateway_url.empty()) args.push_back("--pushgateway-url=" + options.pushgateway_url);
  Value& containers = EnsureArray(workload, "/spec/template/spec/containers");
  Put(workload, containers, Parse(workload, ContainerJson(kSidecarName, args, bc, repository, options, true)), false);
  AddVolumes(workload, bc, repository);
  std::string applied = AppliedObject(bc, "stash.appscode.com/v1beta1", "BackupConfiguration");
  SetAnnotation(workload, kLastAppliedBackupConfiguration, applied);
  SetAnnotation(workload, kLastAppliedBackupConfigurationHash, Fnv64(applied));
  return kube::ToJson(workload) != before;
}

Result<bool> InjectRestoreInit(Doc& workload, const std::string& kind, const kube::Json& restore,
                               const kube::Json& repository, const SidecarOptions& options) {
  STASH_RETURN_IF_ERROR(CheckMounts(workload, kind, restore, "RestoreSession"));
  std::string before = kube::ToJson(workload);
  auto args = Args("restore-session", "--restoresession=", restore, kind, kube::Name(workload));
  Value& init = EnsureArray(workload, "/spec/template/spec/initContainers");
  // First: the data is in place before any other init container runs.
  Put(workload, init, Parse(workload, ContainerJson(kRestoreInitName, args, restore, repository, options, false)), true);
  AddVolumes(workload, restore, repository);
  std::string applied = AppliedObject(restore, "stash.appscode.com/v1beta1", "RestoreSession");
  SetAnnotation(workload, kLastAppliedRestoreSession, applied);
  SetAnnotation(workload, kLastAppliedRestoreSessionHash, Fnv64(applied));
  return kube::ToJson(workload) != before;
}

}  // namespace stash::op
