// The CustomResourceDefinitions of manifests/, checked without a cluster:
// each Stash kind is there with its group, version, scope, names and
// categories; every schema is structural (a type on every node, properties
// only on objects, items only on arrays, required names that exist); the
// printer columns point at fields the schema has; the status subresource is
// there exactly when the schema has a status; and the types the kinds share
// (backend, retention policy, runtime settings, ...) are spelt the same in
// every CRD. test/interop/crds.sh then applies them to a real kube-apiserver.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace {

namespace fs = std::filesystem;

std::map<std::string, YAML::Node> LoadCrds() {
  const char* dir = std::getenv("MANIFESTS_DIR");
  REQUIRE(dir != nullptr);
  std::map<std::string, YAML::Node> crds;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".yaml") continue;
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    for (const auto& n : YAML::LoadAll(ss.str())) {
      if (n.IsMap() && n["kind"].as<std::string>("") == "CustomResourceDefinition") {
        crds[n["spec"]["names"]["kind"].as<std::string>()] = n;
      }
    }
  }
  return crds;
}

const std::map<std::string, YAML::Node>& Crds() {
  static const std::map<std::string, YAML::Node> crds = LoadCrds();
  return crds;
}

const YAML::Node& Crd(const std::string& kind) {
  auto it = Crds().find(kind);
  if (it == Crds().end()) FAIL("no CRD of kind " << kind);
  return it->second;
}

YAML::Node Schema(const std::string& kind) { return Crd(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]; }

// The schema node at a dotted path of property names; "[]" steps into items.
YAML::Node At(YAML::Node schema, const std::string& path) {
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '.')) {
    if (part == "[]") {
      schema.reset(schema["items"]);
    } else {
      schema.reset(schema["properties"][part]);
    }
    if (!schema.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
  }
  return schema;
}

std::vector<std::string> Strings(const YAML::Node& n) {
  std::vector<std::string> out;
  if (n.IsSequence()) {
    for (const auto& v : n) out.push_back(v.as<std::string>());
  }
  return out;
}

// Deep equality of two YAML trees, whatever their flow or block style.
bool Same(const YAML::Node& a, const YAML::Node& b) {
  if (a.Type() != b.Type()) return false;
  if (a.IsScalar()) return a.Scalar() == b.Scalar();
  if (a.IsSequence()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!Same(a[i], b[i])) return false;
    }
    return true;
  }
  if (a.IsMap()) {
    if (a.size() != b.size()) return false;
    for (const auto& kv : a) {
      YAML::Node other = b[kv.first.as<std::string>()];
      if (!other.IsDefined() || !Same(kv.second, other)) return false;
    }
    return true;
  }
  return true;
}

// The rules of a structural schema that a reader can get wrong by hand.
void CheckStructural(YAML::Node s, const std::string& where) {  // by value: a const node throws on a missing key
  INFO(where);
  REQUIRE(s.IsMap());
  bool open = s["x-kubernetes-preserve-unknown-fields"].as<bool>(false) ||
              s["x-kubernetes-int-or-string"].as<bool>(false);
  std::string type = s["type"].as<std::string>("");
  CHECK((open || !type.empty()));
  CHECK(std::set<std::string>{"", "object", "array", "string", "integer", "number", "boolean"}.count(type) == 1);
  if (s["properties"].IsDefined()) {
    CHECK(type == "object");
    for (const auto& kv : s["properties"]) CheckStructural(kv.second, where + "." + kv.first.as<std::string>());
  }
  for (const auto& name : Strings(s["required"])) {
    INFO("required " << name);
    CHECK(s["properties"][name].IsDefined());
  }
  if (type == "array") {
    REQUIRE(s["items"].IsDefined());
    CheckStructural(s["items"], where + "[]");
  } else {
    CHECK_FALSE(s["items"].IsDefined());
  }
  if (s["additionalProperties"].IsMap()) {
    CHECK(type == "object");
    CHECK_FALSE(s["properties"].IsDefined());  // one or the other, never both
    CheckStructural(s["additionalProperties"], where + ".*");
  }
  for (const auto& rule : s["x-kubernetes-validations"]) {
    CHECK(rule["rule"].as<std::string>("") != "");
    CHECK(rule["message"].as<std::string>("") != "");  // users see the message, not the rule
  }
}

struct Expected {
  std::string kind, group, version, plural, scope;
  std::vector<std::string> short_names, categories;
  bool status;
};

// Names, scopes and categories as Stash defined them.
const std::vector<Expected> kKinds = {
    {"Repository", "stash.appscode.com", "v1alpha1", "repositories", "Namespaced", {"repo"},
     {"storage", "appscode", "all"}, true},
    {"Restic", "stash.appscode.com", "v1alpha1", "restics", "Namespaced", {"rst"},
     {"storage", "appscode", "all"}, true},
    {"Recovery", "stash.appscode.com", "v1alpha1", "recoveries", "Namespaced", {"rec"},
     {"storage", "appscode", "all"}, true},
    {"BackupConfiguration", "stash.appscode.com", "v1beta1", "backupconfigurations", "Namespaced", {"bc"},
     {"stash", "appscode", "backup"}, false},
    {"BackupSession", "stash.appscode.com", "v1beta1", "backupsessions", "Namespaced", {},
     {"stash", "backup", "appscode"}, true},
    {"RestoreSession", "stash.appscode.com", "v1beta1", "restoresessions", "Namespaced", {"restore"},
     {"stash", "appscode", "restore"}, true},
    {"Function", "stash.appscode.com", "v1beta1", "functions", "Cluster", {"fn"}, {"stash", "appscode", "kube-ci"},
     false},
    {"Task", "stash.appscode.com", "v1beta1", "tasks", "Cluster", {"task"}, {"stash", "appscode"}, false},
    {"BackupConfigurationTemplate", "stash.appscode.com", "v1beta1", "backupconfigurationtemplates", "Cluster",
     {"btpl"}, {"stash", "appscode", "backup"}, false},
    {"AppBinding", "appcatalog.appscode.com", "v1alpha1", "appbindings", "Namespaced", {},
     {"catalog", "appscode", "all"}, false},
};

}  // namespace

TEST_CASE("crds: every Stash kind, with Stash's group, version, scope and names") {
  CHECK(Crds().size() == kKinds.size());
  for (const auto& want : kKinds) {
    INFO(want.kind);
    const YAML::Node& crd = Crd(want.kind);
    CHECK(crd["apiVersion"].as<std::string>() == "apiextensions.k8s.io/v1");
    YAML::Node spec = crd["spec"];
    CHECK(spec["group"].as<std::string>() == want.group);
    CHECK(spec["scope"].as<std::string>() == want.scope);
    CHECK(crd["metadata"]["name"].as<std::string>() == want.plural + "." + want.group);
    CHECK(crd["metadata"]["labels"]["app"].as<std::string>("") != "");
    YAML::Node names = spec["names"];
    CHECK(names["plural"].as<std::string>() == want.plural);
    CHECK(names["listKind"].as<std::string>() == want.kind + "List");
    std::string singular = want.kind;
    std::transform(singular.begin(), singular.end(), singular.begin(), ::tolower);
    CHECK(names["singular"].as<std::string>() == singular);
    CHECK(Strings(names["shortNames"]) == want.short_names);
    CHECK(Strings(names["categories"]) == want.categories);
    REQUIRE(spec["versions"].size() == 1);
    YAML::Node v = spec["versions"][0];
    CHECK(v["name"].as<std::string>() == want.version);
    CHECK(v["served"].as<bool>());
    CHECK(v["storage"].as<bool>());
    CHECK(v["subresources"]["status"].IsDefined() == want.status);
  }
}

TEST_CASE("crds: every schema is structural and has a typed spec") {
  for (const auto& [kind, crd] : Crds()) {
    INFO(kind);
    YAML::Node root = Schema(kind);
    REQUIRE(root.IsMap());
    CHECK(root["type"].as<std::string>("") == "object");
    CHECK(root["description"].as<std::string>("") != "");
    CHECK_FALSE(root["properties"]["metadata"].IsDefined());  // the apiserver owns metadata's schema
    YAML::Node spec = root["properties"]["spec"];
    REQUIRE(spec.IsMap());
    CHECK(spec["type"].as<std::string>("") == "object");
    CHECK(spec["properties"].size() > 0);
    CHECK_FALSE(spec["x-kubernetes-preserve-unknown-fields"].as<bool>(false));
    CHECK(Strings(root["required"]) == std::vector<std::string>{"spec"});
    CheckStructural(root, kind);
    // A status subresource needs a status in the schema, and the reverse.
    bool status = root["properties"]["status"].IsDefined();
    CHECK(crd["spec"]["versions"][0]["subresources"]["status"].IsDefined() == status);
  }
}

TEST_CASE("crds: printer columns point at fields of the schema, ending with Age") {
  const std::set<std::string> types = {"string", "integer", "number", "boolean", "date"};
  for (const auto& [kind, crd] : Crds()) {
    INFO(kind);
    YAML::Node columns = crd["spec"]["versions"][0]["additionalPrinterColumns"];
    REQUIRE(columns.size() >= 1);
    YAML::Node age = columns[columns.size() - 1];
    CHECK(age["name"].as<std::string>() == "Age");
    CHECK(age["jsonPath"].as<std::string>() == ".metadata.creationTimestamp");
    std::set<std::string> seen;
    for (const auto& c : columns) {
      std::string name = c["name"].as<std::string>(), path = c["jsonPath"].as<std::string>();
      INFO(name << " " << path);
      CHECK(seen.insert(name).second);
      CHECK(types.count(c["type"].as<std::string>()) == 1);
      REQUIRE(path.rfind('.', 0) == 0);
      if (path.rfind(".metadata.", 0) == 0) continue;
      YAML::Node field = At(Schema(kind), path.substr(1));
      REQUIRE(field.IsDefined());
      std::string type = field["type"].as<std::string>("");
      std::string want = c["type"].as<std::string>();
      if (want == "date") {
        CHECK(field["format"].as<std::string>("") == "date-time");
      } else if (want != "string") {
        CHECK(type == want);
      }
    }
  }
  // The columns Stash showed for its kinds.
  auto names = [](const std::string& kind) {
    std::vector<std::string> out;
    for (const auto& c : Crd(kind)["spec"]["versions"][0]["additionalPrinterColumns"]) {
      out.push_back(c["name"].as<std::string>());
    }
    return out;
  };
  CHECK(names("Restic") == std::vector<std::string>{"Selector", "Schedule", "Backup-Type", "Paused", "Age"});
  CHECK(names("Recovery") ==
        std::vector<std::string>{"Repository-Namespace", "Repository-Name", "Snapshot", "Phase", "Age"});
  CHECK(names("BackupSession") == std::vector<std::string>{"BackupConfiguration", "Phase", "Age"});
  CHECK(names("RestoreSession") == std::vector<std::string>{"Repository-Name", "Phase", "Age"});
  CHECK(names("BackupConfiguration") == std::vector<std::string>{"Task", "Schedule", "Paused", "Age"});
  CHECK(names("AppBinding") == std::vector<std::string>{"Type", "Version", "Age"});
}

TEST_CASE("crds: the fields the API requires are required") {
  auto required = [](const std::string& kind, const std::string& path) {
    return Strings(path.empty() ? Schema(kind)["required"] : At(Schema(kind), path)["required"]);
  };
  using V = std::vector<std::string>;
  CHECK(required("Repository", "spec") == V{"backend"});
  CHECK(required("Repository", "spec.backend") == V{"storageSecretName"});
  CHECK(required("Restic", "spec.fileGroups.[]") == V{"path"});
  CHECK(required("Recovery", "spec") == V{"repository", "paths", "recoveredVolumes"});
  CHECK(required("Recovery", "spec.repository") == V{"name", "namespace"});
  CHECK(At(Schema("Recovery"), "spec.paths")["minItems"].as<int>() == 1);
  CHECK(At(Schema("Recovery"), "spec.recoveredVolumes")["minItems"].as<int>() == 1);
  CHECK(required("BackupConfiguration", "spec.task.params.[]") == V{"name", "value"});
  CHECK(required("BackupSession", "spec") == V{"backupConfiguration"});
  CHECK(required("Task", "spec") == V{"steps"});
  CHECK(At(Schema("Task"), "spec.steps")["minItems"].as<int>() == 1);
  CHECK(required("AppBinding", "spec") == V{"clientConfig"});
  // Go clients write `service: null` when the URL is used.
  CHECK(At(Schema("AppBinding"), "spec.clientConfig.service")["nullable"].as<bool>(false));
}

TEST_CASE("crds: shared types are spelt the same in every kind") {
  struct Shared {
    const char* what;
    std::vector<std::pair<std::string, std::string>> at;  // kind, path
  };
  const std::vector<Shared> shared = {
      {"backend", {{"Repository", "spec.backend"}, {"Restic", "spec.backend"},
                   {"BackupConfigurationTemplate", "spec.backend"}}},
      {"retention policy", {{"BackupConfiguration", "spec.retentionPolicy"},
                            {"BackupConfigurationTemplate", "spec.retentionPolicy"}}},
      {"runtime settings", {{"BackupConfiguration", "spec.runtimeSettings"},
                            {"RestoreSession", "spec.runtimeSettings"},
                            {"BackupConfigurationTemplate", "spec.runtimeSettings"}}},
      {"container settings", {{"BackupConfiguration", "spec.runtimeSettings.container"},
                              {"Function", "spec.runtimeSettings"}}},
      {"temp dir", {{"BackupConfiguration", "spec.tempDir"}, {"RestoreSession", "spec.tempDir"}}},
      {"task reference", {{"BackupConfiguration", "spec.task"}, {"RestoreSession", "spec.task"},
                          {"BackupConfigurationTemplate", "spec.task"}}},
      {"target reference", {{"BackupConfiguration", "spec.target.ref"}, {"RestoreSession", "spec.target.ref"}}},
      {"volume mounts", {{"Restic", "spec.volumeMounts"}, {"BackupConfiguration", "spec.target.volumeMounts"},
                         {"RestoreSession", "spec.target.volumeMounts"}, {"Function", "spec.volumeMounts"}}},
      {"resources", {{"Restic", "spec.resources"}, {"Function", "spec.runtimeSettings.resources"}}},
      {"params", {{"BackupConfiguration", "spec.task.params"}, {"Task", "spec.steps.[].params"}}},
  };
  for (const auto& s : shared) {
    INFO(s.what);
    YAML::Node first = At(Schema(s.at[0].first), s.at[0].second);
    REQUIRE(first.IsDefined());
    for (size_t i = 1; i < s.at.size(); ++i) {
      INFO(s.at[0].first << " " << s.at[0].second << " vs " << s.at[i].first << " " << s.at[i].second);
      YAML::Node other = At(Schema(s.at[i].first), s.at[i].second);
      REQUIRE(other.IsDefined());
      CHECK(Same(first, other));
    }
  }
  // Restic's retention policies are the same type, with bounded names (its
  // validation rule compares them).
  YAML::Node restic = YAML::Clone(At(Schema("Restic"), "spec.retentionPolicies.[]"));
  restic["properties"]["name"].remove("maxLength");
  CHECK(Same(restic, At(Schema("BackupConfiguration"), "spec.retentionPolicy")));
}
