#include "apiserver/snapshots/manifests.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <sstream>

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
  StashBackend& b = r.backend;
  for (const char* type : {"local", "s3", "gcs", "azure", "swift", "b2", "rest"}) {
    if (IsMap(Member(backend, type))) {
      b.type = type;
      break;
    }
  }
  YAML::Node p = Member(backend, b.type.c_str());
  b.host_path = Str(Member(p, "hostPath"), "path");
  b.mount_path = Str(p, "mountPath");
  b.sub_path = Str(p, "subPath");
  b.endpoint = Str(p, "endpoint");
  b.bucket = Str(p, "bucket");
  b.container = Str(p, "container");
  b.prefix = Str(p, "prefix");
  b.region = Str(p, "region");
  b.url = Str(p, "url");
  b.sidecar_created = r.labels.count("workload-kind") > 0;
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
  spec.backend = r.backend;
  if (r.backend.type.empty()) {
    spec.problem = "spec.backend names no storage backend";
    return spec;
  }
  if (r.storage_secret_name.empty()) {
    spec.problem = "missing repository secret name";
    return spec;
  }
  const SecretManifest* secret = FindSecret(m, r.ns, r.storage_secret_name);
  if (!secret) {
    spec.problem = "secret \"" + r.storage_secret_name + "\" not found";
    return spec;
  }
  spec.secret = secret->data;
  auto location = RepositoryLocation(r.backend, secret->data);
  if (!location.ok()) {
    spec.problem = location.error().message();
    return spec;
  }
  spec.location = *location;
  if (auto it = secret->data.find("RESTIC_PASSWORD"); it == secret->data.end()) {
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

namespace {

// Ignores the events: only the count of documents matters below.
struct NullEvents : YAML::EventHandler {
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// yaml-cpp 0.7's LoadAll never returns on some malformed input (a stray
// ',' where a document starts: the parser yields an empty document without
// consuming it, forever, and the list of documents grows until memory runs
// out). Every real document after the first takes a 3-byte marker, so more
// than size + 2 documents means the parser is stuck.
bool ParserIsStuck(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  NullEvents events;
  for (size_t docs = 0; parser.HandleNextDocument(events);) {
    if (++docs > text.size() + 2) return true;
  }
  return false;
}

}  // namespace

Result<Manifests> ParseManifests(std::string_view text, const std::string& source) {
  Manifests out;
  std::vector<YAML::Node> docs;
  try {
    std::string owned(text);
    if (ParserIsStuck(owned)) return Invalid(source + ": not valid YAML: the parser cannot get past it");
    docs = YAML::LoadAll(owned);
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
