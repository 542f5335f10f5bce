#include "apiserver/manifests.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "crypto/encoding.h"

namespace stash::apiserver {
namespace {

// yaml-cpp throws when asked the type of a missing member; these ask safely.
bool IsMap(const YAML::Node& n) { return n.IsDefined() && n.IsMap(); }
bool IsScalar(const YAML::Node& n) { return n.IsDefined() && n.IsScalar(); }
bool IsSequence(const YAML::Node& n) { return n.IsDefined() && n.IsSequence(); }

YAML::Node Member(const YAML::Node& node, const char* key) {
  if (!IsMap(node)) return YAML::Node(YAML::NodeType::Undefined);
  return node[key];
}

// A scalar member as a string; "" when missing or not a scalar.
std::string Str(const YAML::Node& node, const char* key) {
  YAML::Node v = Member(node, key);
  return IsScalar(v) ? v.Scalar() : "";
}

std::map<std::string, std::string> StringMap(const YAML::Node& node) {
  std::map<std::string, std::string> out;
  if (!IsMap(node)) return out;
  for (const auto& kv : node) {
    if (kv.first.IsScalar() && kv.second.IsScalar()) out[kv.first.Scalar()] = kv.second.Scalar();
    else if (kv.first.IsScalar() && kv.second.IsNull()) out[kv.first.Scalar()] = "";
  }
  return out;
}

void ReadMetadata(const YAML::Node& doc, std::string& ns, std::string& name) {
  YAML::Node meta = Member(doc, "metadata");
  name = Str(meta, "name");
  std::string n = Str(meta, "namespace");
  if (!n.empty()) ns = n;
}

Status ReadRepository(const YAML::Node& doc, Manifests& out) {
  RepositoryManifest r;
  ReadMetadata(doc, r.ns, r.name);
  if (r.name.empty()) return Invalid("a Repository has no metadata.name");
  r.labels = StringMap(Member(Member(doc, "metadata"), "labels"));
  YAML::Node backend = Member(Member(doc, "spec"), "backend");
  r.storage_secret_name = Str(backend, "storageSecretName");
  for (const char* type : {"local", "s3", "gcs", "azure", "swift", "b2", "rest"}) {
    if (IsMap(Member(backend, type))) {
      r.backend_type = type;
      break;
    }
  }
  YAML::Node local = Member(backend, "local");
  r.local.host_path = Str(Member(local, "hostPath"), "path");
  r.local.mount_path = Str(local, "mountPath");
  r.local.sub_path = Str(local, "subPath");
  out.repositories.push_back(std::move(r));
  return Status::Ok();
}

Status ReadSecret(const YAML::Node& doc, Manifests& out) {
  SecretManifest s;
  ReadMetadata(doc, s.ns, s.name);
  if (s.name.empty()) return Invalid("a Secret has no metadata.name");
  for (const auto& [key, encoded] : StringMap(Member(doc, "data"))) {
    std::string compact;
    for (char c : encoded) {
      if (c != '\n' && c != '\r' && c != ' ') compact += c;
    }
    auto bytes = Base64Decode(compact);
    if (!bytes) return Invalid("Secret " + s.ns + "/" + s.name + ": data." + key + " is not base64");
    s.data[key] = std::string(AsString(*bytes));
  }
  for (const auto& [key, value] : StringMap(Member(doc, "stringData"))) s.data[key] = value;
  out.secrets.push_back(std::move(s));
  return Status::Ok();
}

void ReadNamespace(const YAML::Node& doc, Manifests& out) {
  std::string ns, name;
  ReadMetadata(doc, ns, name);
  bool deleting = !Str(Member(doc, "metadata"), "deletionTimestamp").empty() ||
                  Str(Member(doc, "status"), "phase") == "Terminating";
  if (name.empty()) return;
  out.namespaces.push_back(name);
  if (deleting) out.terminating_namespaces.push_back(name);
}

Status ReadDocument(const YAML::Node& doc, Manifests& out) {
  if (!doc.IsDefined() || doc.IsNull()) return Status::Ok();  // an empty document ("---" at the end)
  if (!doc.IsMap()) return Invalid("a document is not an object");
  std::string api = Str(doc, "apiVersion"), kind = Str(doc, "kind");
  if (kind == "List" || (kind.size() > 4 && kind.ends_with("List") && IsSequence(Member(doc, "items")))) {
    for (const auto& item : Member(doc, "items")) STASH_RETURN_IF_ERROR(ReadDocument(item, out));
    return Status::Ok();
  }
  if (kind == "Repository" && api == "stash.appscode.com/v1alpha1") return ReadRepository(doc, out);
  if (kind == "Secret" && api == "v1") return ReadSecret(doc, out);
  if (kind == "Namespace" && api == "v1") ReadNamespace(doc, out);
  else ++out.skipped;
  return Status::Ok();
}

std::string CleanPath(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out += c;
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

const SecretManifest* FindSecret(const Manifests& m, const std::string& ns, const std::string& name) {
  const SecretManifest* found = nullptr;
  for (const auto& s : m.secrets) {
    if (s.ns == ns && s.name == name) found = &s;  // the last one wins
  }
  return found;
}

RepositorySpec Resolve(const Manifests& m, const RepositoryManifest& r) {
  RepositorySpec spec;
  spec.ns = r.ns;
  spec.name = r.name;
  spec.labels = r.labels;
  if (r.backend_type != "local") {
    spec.problem = r.backend_type.empty() ? "spec.backend names no storage backend"
                                          : r.backend_type + " backends are not supported yet";
    return spec;
  }
  auto path = LocalRepositoryPath(r.local);
  if (!path.ok()) {
    spec.problem = path.error().message();
    return spec;
  }
  spec.location = *path;
  if (r.storage_secret_name.empty()) {
    spec.problem = "missing repository secret name";
    return spec;
  }
  const SecretManifest* secret = FindSecret(m, r.ns, r.storage_secret_name);
  if (!secret) {
    spec.problem = "secret \"" + r.storage_secret_name + "\" not found";
  } else if (auto it = secret->data.find("RESTIC_PASSWORD"); it == secret->data.end()) {
    spec.problem = "missing repository password";
  } else {
    spec.password = it->second;
  }
  return spec;
}

}  // namespace

void Manifests::Merge(Manifests other) {
  for (auto& r : other.repositories) repositories.push_back(std::move(r));
  for (auto& s : other.secrets) secrets.push_back(std::move(s));
  for (auto& n : other.namespaces) namespaces.push_back(std::move(n));
  for (auto& n : other.terminating_namespaces) terminating_namespaces.push_back(std::move(n));
  skipped += other.skipped;
}

Result<Manifests> ParseManifests(std::string_view text, const std::string& source) {
  Manifests out;
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const std::exception& e) {
    return Invalid(source + ": not valid YAML: " + e.what());
  }
  for (size_t i = 0; i < docs.size(); ++i) {
    Status s = Status::Ok();
    try {
      s = ReadDocument(docs[i], out);
    } catch (const std::exception& e) {
      s = Invalid(e.what());
    }
    if (!s.ok()) return s.error().Wrap(source + " (document " + std::to_string(i + 1) + ")");
  }
  return out;
}

Result<std::string> LocalRepositoryPath(const LocalBackendSpec& local) {
  const std::string& base = local.host_path.empty() ? local.mount_path : local.host_path;
  if (base.empty()) return Invalid("local backend has neither hostPath.path nor mountPath");
  if (base[0] != '/') return Invalid("local backend path \"" + base + "\" is not absolute");
  std::string sub = local.sub_path;
  if (sub == ".." || sub.starts_with("../") || sub.find("/../") != std::string::npos || sub.ends_with("/..")) {
    return Invalid("local backend subPath \"" + sub + "\" leaves its volume");
  }
  return CleanPath(sub.empty() ? base : base + "/" + sub);
}

std::vector<RepositorySpec> ResolveRepositories(const Manifests& m) {
  std::map<std::string, RepositorySpec> by_key;
  for (const auto& r : m.repositories) {
    RepositorySpec spec = Resolve(m, r);
    by_key[spec.key()] = std::move(spec);
  }
  std::vector<RepositorySpec> out;
  for (auto& [key, spec] : by_key) out.push_back(std::move(spec));
  return out;
}

}  // namespace stash::apiserver
