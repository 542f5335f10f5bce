#include "stashapi/stash_repository.h"

#include "base/json_util.h"

namespace stash {
namespace {

using rapidjson::Value;

std::string StringAt(const Value& object, const char* key) { return json::String(object, key).value_or(""); }

const Value* ObjectAt(const Value* object, const char* key) {
  if (!object || !object->IsObject()) return nullptr;
  const Value* v = json::Member(*object, key);
  return v && v->IsObject() ? v : nullptr;
}

std::map<std::string, std::string> StringMap(const Value* object) {
  std::map<std::string, std::string> out;
  if (!object) return out;
  for (const auto& m : object->GetObject()) {
    if (m.value.IsString()) out[m.name.GetString()] = m.value.GetString();
  }
  return out;
}

std::string Label(const std::map<std::string, std::string>& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? "" : it->second;
}

// 0.8.3's host of a workload's snapshots, from the sidecar's labels.
Status ReadHost(StashRepository& r) {
  const std::string kind = Label(r.labels, "workload-kind"), workload = Label(r.labels, "workload-name");
  if (kind.empty()) return Status::Ok();
  if (workload.empty()) return Invalid("label workload-kind is set but workload-name is missing");
  if (kind == "Deployment" || kind == "ReplicaSet" || kind == "ReplicationController") {
    r.host = workload;
  } else if (kind == "StatefulSet") {
    r.host = Label(r.labels, "pod-name");
    if (r.host.empty()) return Invalid("a StatefulSet's Repository has no pod-name label");
  } else if (kind == "DaemonSet") {
    r.host = r.node_name = Label(r.labels, "node-name");
    if (r.host.empty()) return Invalid("a DaemonSet's Repository has no node-name label");
  } else {
    return Invalid("label workload-kind \"" + kind + "\" is not a workload kind Stash backs up");
  }
  return Status::Ok();
}

}  // namespace

StashBackend BackendFromJson(const Value& backend, const std::map<std::string, std::string>& labels) {
  StashBackend b;
  const Value* p = nullptr;
  for (const char* type : {"local", "s3", "gcs", "azure", "swift", "b2", "rest"}) {
    if ((p = ObjectAt(&backend, type))) {
      b.type = type;
      break;
    }
  }
  if (!p) return b;
  if (const Value* host = ObjectAt(p, "hostPath")) b.host_path = StringAt(*host, "path");
  b.mount_path = StringAt(*p, "mountPath");
  b.sub_path = StringAt(*p, "subPath");
  b.endpoint = StringAt(*p, "endpoint");
  b.bucket = StringAt(*p, "bucket");
  b.container = StringAt(*p, "container");
  b.prefix = StringAt(*p, "prefix");
  b.region = StringAt(*p, "region");
  b.url = StringAt(*p, "url");
  b.sidecar_created = labels.count("workload-kind") > 0;
  return b;
}

Result<StashRepository> ParseRepository(const Value& repository) {
  StashRepository r;
  const Value* meta = ObjectAt(&repository, "metadata");
  if (meta) {
    r.ns = StringAt(*meta, "namespace");
    r.name = StringAt(*meta, "name");
    r.labels = StringMap(ObjectAt(meta, "labels"));
  }
  const std::string what = "Repository " + r.ns + "/" + r.name;
  const Value* backend = ObjectAt(ObjectAt(&repository, "spec"), "backend");
  if (!backend) return Invalid(what + " has no spec.backend");
  r.backend = BackendFromJson(*backend, r.labels);
  r.storage_secret_name = StringAt(*backend, "storageSecretName");
  if (r.backend.type.empty()) return Invalid(what + ": spec.backend names no storage backend");
  if (r.storage_secret_name.empty()) return Invalid(what + ": missing repository secret name");
  Status host = ReadHost(r);
  if (!host.ok()) return host.error().Wrap(what);
  return r;
}

}  // namespace stash
