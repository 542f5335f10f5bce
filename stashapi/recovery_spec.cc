#include "stashapi/recovery_spec.h"

#include <cctype>

#include "base/json_util.h"

namespace stash {
namespace {

using rapidjson::Value;

// The repository names a 0.8.3 sidecar gives (docs/stash-objects.md, section 3).
constexpr const char* kRepositoryPrefixes[] = {"deployment.", "replicationcontroller.", "replicaset.",
                                               "statefulset.", "daemonset."};

std::string StringAt(const Value& object, const char* key) {
  return json::String(object, key).value_or("");
}

const Value* ObjectAt(const Value& object, const char* key) {
  const Value* v = json::Member(object, key);
  return v && v->IsObject() ? v : nullptr;
}

const Value* ArrayAt(const Value* object, const char* key) {
  if (!object) return nullptr;
  const Value* v = json::Member(*object, key);
  return v && v->IsArray() ? v : nullptr;
}

// An absolute path with doubled and trailing slashes removed; "" when it is
// relative or has "." or ".." elements, which restic never records.
std::string CleanAbsolute(const std::string& path) {
  if (path.empty() || path[0] != '/') return "";
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    size_t end = path.find('/', i);
    if (end == std::string::npos) end = path.size();
    std::string element = path.substr(i, end - i);
    if (element == "." || element == "..") return "";
    if (!element.empty()) out += "/" + element;
    i = end + 1;
  }
  return out.empty() ? "/" : out;
}

bool Inside(const std::string& path, const std::string& folder) {
  return folder == "/" || path == folder || path.starts_with(folder + "/");
}

Status ReadRepositoryRef(const Value* spec, RecoverySpec& out) {
  const Value* ref = spec ? ObjectAt(*spec, "repository") : nullptr;
  if (ref) {
    out.repository_name = StringAt(*ref, "name");
    out.repository_ns = StringAt(*ref, "namespace");
  }
  if (out.repository_name.empty()) return Invalid("spec.repository.name is empty (missing repository name)");
  bool known = false;
  for (const char* prefix : kRepositoryPrefixes) known = known || out.repository_name.starts_with(prefix);
  if (!known) {
    return Invalid("spec.repository.name \"" + out.repository_name +
                   "\" does not start with deployment., replicationcontroller., replicaset., statefulset. or "
                   "daemonset. (invalid repository name)");
  }
  if (out.repository_ns.empty()) return Invalid("spec.repository.namespace is empty (missing repository namespace)");
  return Status::Ok();
}

Status ReadPaths(const Value* spec, RecoverySpec& out) {
  const Value* paths = ArrayAt(spec, "paths");
  if (!paths || paths->Empty()) return Invalid("spec.paths is empty (missing filegroup paths)");
  for (rapidjson::SizeType i = 0; i < paths->Size(); ++i) {
    const Value& p = (*paths)[i];
    std::string raw = p.IsString() ? std::string(p.GetString(), p.GetStringLength()) : "";
    std::string clean = CleanAbsolute(raw);
    if (clean.empty()) {
      return Invalid("spec.paths[" + std::to_string(i) + "] \"" + raw + "\" is not a clean absolute path");
    }
    out.paths.push_back(clean);
  }
  return Status::Ok();
}

bool HasVolumeSource(const Value& volume) {
  for (const auto& m : volume.GetObject()) {
    std::string key(m.name.GetString(), m.name.GetStringLength());
    if (key != "mountPath" && key != "subPath" && m.value.IsObject()) return true;
  }
  return false;
}

Status ReadVolumes(const Value* spec, RecoverySpec& out) {
  const Value* volumes = ArrayAt(spec, "recoveredVolumes");
  if (!volumes || volumes->Empty()) return Invalid("spec.recoveredVolumes is empty (missing recovery volume)");
  for (rapidjson::SizeType i = 0; i < volumes->Size(); ++i) {
    const Value& v = (*volumes)[i];
    const std::string field = "spec.recoveredVolumes[" + std::to_string(i) + "]";
    if (!v.IsObject()) return Invalid(field + " is not an object");
    RecoveredVolume volume;
    volume.mount_path = CleanAbsolute(StringAt(v, "mountPath"));
    volume.sub_path = StringAt(v, "subPath");
    if (volume.mount_path.empty()) {
      return Invalid(field + ".mountPath \"" + StringAt(v, "mountPath") + "\" is not a clean absolute path");
    }
    if (!HasVolumeSource(v)) return Invalid(field + " names no volume source (hostPath, persistentVolumeClaim, ...)");
    out.volumes.push_back(volume);
  }
  return Status::Ok();
}

void ReadPodSettings(const Value* spec, RecoverySpec& out) {
  if (const Value* secrets = ArrayAt(spec, "imagePullSecrets")) {
    for (const auto& s : secrets->GetArray()) {
      if (s.IsObject() && !StringAt(s, "name").empty()) out.image_pull_secrets.push_back(StringAt(s, "name"));
    }
  }
  const Value* selector = spec ? ObjectAt(*spec, "nodeSelector") : nullptr;
  if (!selector) return;
  for (const auto& m : selector->GetObject()) {
    if (m.value.IsString()) out.node_selector[m.name.GetString()] = m.value.GetString();
  }
}

Status CheckSpec(const Value* spec, RecoverySpec& out) {
  STASH_RETURN_IF_ERROR(ReadPaths(spec, out));
  STASH_RETURN_IF_ERROR(ReadVolumes(spec, out));
  STASH_RETURN_IF_ERROR(ReadRepositoryRef(spec, out));
  out.snapshot = spec ? StringAt(*spec, "snapshot") : "";
  if (!out.snapshot.empty()) STASH_RETURN_IF_ERROR(SnapshotShortId(out.snapshot, out.repository_name));
  for (const auto& path : out.paths) {
    if (!VolumeFor(out, path)) {
      return Invalid("spec.paths: \"" + path + "\" lies in no recovered volume (no recoveredVolumes[].mountPath " +
                     "is the path or a folder above it)");
    }
  }
  ReadPodSettings(spec, out);
  return Status::Ok();
}

}  // namespace

Result<RecoverySpec> ParseRecovery(const Value& recovery) {
  RecoverySpec out;
  if (!recovery.IsObject()) return Invalid("a Recovery is not a JSON object");
  if (const Value* meta = ObjectAt(recovery, "metadata")) {
    out.ns = StringAt(*meta, "namespace");
    out.name = StringAt(*meta, "name");
    out.uid = StringAt(*meta, "uid");
    const Value* generation = json::Member(*meta, "generation");
    if (generation && generation->IsInt64()) out.generation = generation->GetInt64();
  }
  if (out.name.empty()) return Invalid("a Recovery has no metadata.name");
  Status checked = CheckSpec(ObjectAt(recovery, "spec"), out);
  if (!checked.ok()) return checked.error().Wrap("Recovery " + out.ns + "/" + out.name);
  return out;
}

Result<std::string> SnapshotShortId(const std::string& snapshot, const std::string& repository) {
  const std::string invalid =
      "snapshot \"" + snapshot + "\" is not " + repository + "-<8 hex digits> (invalid snapshot name)";
  if (snapshot.size() != repository.size() + 9 || !snapshot.starts_with(repository + "-")) return Invalid(invalid);
  std::string id = snapshot.substr(repository.size() + 1);
  for (char c : id) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) || std::isupper(static_cast<unsigned char>(c))) {
      return Invalid(invalid);
    }
  }
  return id;
}

std::optional<size_t> VolumeFor(const RecoverySpec& spec, const std::string& path) {
  std::optional<size_t> best;
  for (size_t i = 0; i < spec.volumes.size(); ++i) {
    const std::string& mount = spec.volumes[i].mount_path;
    if (!Inside(path, mount)) continue;
    if (!best || mount.size() > spec.volumes[*best].mount_path.size()) best = i;
  }
  return best;
}

}  // namespace stash
