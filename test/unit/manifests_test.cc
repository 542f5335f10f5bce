// manifests/: the YAML a real cluster gets. Every document must be a
// Kubernetes object, and the pieces must fit together: the APIService
// points at the Service, the Service at the Deployment's pods and port, the
// Deployment runs as a ServiceAccount that exists and passes only flags
// `stash apiserver` accepts, and RBAC grants what the server needs.
//
// MANIFESTS_DIR names the folder and APISERVER_FLAGS_SOURCE the file that
// declares the apiserver's flags (cmd/cmd_apiserver.cc).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace {

namespace fs = std::filesystem;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  REQUIRE(v != nullptr);
  return v;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Doc {
  std::string file;
  YAML::Node node;
  std::string kind() const { return node["kind"].as<std::string>(""); }
  std::string name() const { return node["metadata"]["name"].as<std::string>(""); }
  std::string ns() const { return node["metadata"]["namespace"].as<std::string>(""); }
};

std::vector<Doc> LoadAll() {
  std::vector<Doc> docs;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(Env("MANIFESTS_DIR"))) {
    if (e.path().extension() == ".yaml" || e.path().extension() == ".yml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 4);
  for (const auto& f : files) {
    INFO(f.string());
    std::vector<YAML::Node> nodes;
    REQUIRE_NOTHROW(nodes = YAML::LoadAll(ReadFile(f)));
    for (const auto& n : nodes) {
      if (n.IsNull()) continue;  // an empty document between ---
      docs.push_back({f.filename().string(), n});
    }
  }
  return docs;
}

const std::vector<Doc>& Docs() {
  static const std::vector<Doc> docs = LoadAll();
  return docs;
}

std::vector<Doc> OfKind(const std::string& kind) {
  std::vector<Doc> out;
  for (const auto& d : Docs()) {
    if (d.kind() == kind) out.push_back(d);
  }
  return out;
}

const Doc& One(const std::string& kind, const std::string& name, const std::string& ns = "") {
  for (const auto& d : Docs()) {
    if (d.kind() == kind && d.name() == name && d.ns() == ns) return d;
  }
  FAIL("no " << kind << " " << ns << "/" << name);
  throw;  // not reached
}

std::vector<std::string> Strings(const YAML::Node& n) {
  std::vector<std::string> out;
  if (n.IsSequence()) {
    for (const auto& v : n) out.push_back(v.as<std::string>());
  }
  return out;
}

bool Contains(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end() ||
         std::find(list.begin(), list.end(), "*") != list.end();
}

// The flags `stash apiserver` declares: {"name", 0, true, ...} in ApiserverFlags().
std::set<std::string> ApiserverFlags() {
  std::string source = ReadFile(Env("APISERVER_FLAGS_SOURCE"));
  size_t start = source.find("ApiserverFlags()");
  REQUIRE(start != std::string::npos);
  std::set<std::string> flags;
  std::regex spec(R"re(\{"([a-z0-9-]+)", 0, (true|false),)re");
  for (std::sregex_iterator it(source.begin() + static_cast<long>(start), source.end(), spec), end; it != end; ++it) {
    flags.insert((*it)[1]);
  }
  REQUIRE(flags.count("secure-port"));
  REQUIRE(flags.count("requestheader-client-ca-file"));
  return flags;
}

// Whether ClusterRoles bound to `account` by ClusterRoleBindings allow `verb`
// on `resource` of `group`.
bool AccountMay(const std::string& ns, const std::string& account, const std::string& group,
                const std::string& resource, const std::string& verb) {
  for (const auto& binding : OfKind("ClusterRoleBinding")) {
    bool subject = false;
    for (const auto& s : binding.node["subjects"]) {
      subject |= s["kind"].as<std::string>() == "ServiceAccount" && s["name"].as<std::string>() == account &&
                 s["namespace"].as<std::string>("") == ns;
    }
    if (!subject || binding.node["roleRef"]["kind"].as<std::string>() != "ClusterRole") continue;
    std::string role = binding.node["roleRef"]["name"].as<std::string>();
    for (const auto& r : OfKind("ClusterRole")) {
      if (r.name() != role) continue;
      for (const auto& rule : r.node["rules"]) {
        if (Contains(Strings(rule["apiGroups"]), group) && Contains(Strings(rule["resources"]), resource) &&
            Contains(Strings(rule["verbs"]), verb)) {
          return true;
        }
      }
    }
  }
  return false;
}

bool BoundTo(const std::string& binding_kind, const std::string& binding_ns, const std::string& role_kind,
             const std::string& role, const std::string& ns, const std::string& account) {
  for (const auto& b : OfKind(binding_kind)) {
    if (b.ns() != binding_ns || b.node["roleRef"]["kind"].as<std::string>() != role_kind ||
        b.node["roleRef"]["name"].as<std::string>() != role ||
        b.node["roleRef"]["apiGroup"].as<std::string>("") != "rbac.authorization.k8s.io") {
      continue;
    }
    for (const auto& s : b.node["subjects"]) {
      if (s["kind"].as<std::string>() == "ServiceAccount" && s["name"].as<std::string>() == account &&
          s["namespace"].as<std::string>("") == ns) {
        return true;
      }
    }
  }
  return false;
}

const std::set<std::string> kClusterScoped = {"Namespace", "ClusterRole", "ClusterRoleBinding", "APIService",
                                               "CustomResourceDefinition", "Function", "Task"};

}  // namespace

TEST_CASE("manifests: every document is a Kubernetes object, namespaced where it must be") {
  std::set<std::string> namespaces = {"kube-system"};
  for (const auto& d : OfKind("Namespace")) namespaces.insert(d.name());
  std::set<std::string> seen;
  for (const auto& d : Docs()) {
    INFO(d.file << ": " << d.kind() << " " << d.name());
    CHECK(d.node.IsMap());
    CHECK(d.node["apiVersion"].as<std::string>("") != "");
    CHECK(d.kind() != "");
    CHECK(d.name() != "");
    if (kClusterScoped.count(d.kind())) {
      CHECK(d.ns() == "");
    } else {
      CHECK(namespaces.count(d.ns()) == 1);  // every namespace used is created (or kube-system)
    }
    CHECK(seen.insert(d.kind() + "/" + d.ns() + "/" + d.name()).second);  // no duplicates
  }
  for (const char* kind : {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "RoleBinding",
                           "Deployment", "Service", "APIService", "CustomResourceDefinition"}) {
    INFO(kind);
    CHECK_FALSE(OfKind(kind).empty());
  }
}

TEST_CASE("manifests: the APIService reaches the Deployment's HTTPS port through the Service") {
  const Doc& api = One("APIService", "v1alpha1.repositories.stash.appscode.com");
  CHECK(api.node["apiVersion"].as<std::string>() == "apiregistration.k8s.io/v1");
  YAML::Node spec = api.node["spec"];
  CHECK(spec["group"].as<std::string>() == "repositories.stash.appscode.com");
  CHECK(spec["version"].as<std::string>() == "v1alpha1");
  CHECK(api.name() == spec["version"].as<std::string>() + "." + spec["group"].as<std::string>());
  int gpm = spec["groupPriorityMinimum"].as<int>(0), vp = spec["versionPriority"].as<int>(0);
  CHECK((gpm >= 1 && gpm <= 20000));
  CHECK((vp >= 1 && vp <= 1000));
  // The server registers its own caBundle at start; the manifest must not
  // turn verification off instead.
  CHECK_FALSE(spec["insecureSkipTLSVerify"].as<bool>(false));
  const Doc& apiserver = One("Deployment", "stash-apiserver", "stash");
  std::string flags;
  for (const auto& a : apiserver.node["spec"]["template"]["spec"]["containers"][0]["args"]) {
    flags += a.as<std::string>() + " ";
  }
  CHECK(flags.find("--no-register-apiservice") == std::string::npos);

  const Doc& svc =
      One("Service", spec["service"]["name"].as<std::string>(), spec["service"]["namespace"].as<std::string>());
  int port = spec["service"]["port"].as<int>(443);
  YAML::Node service_port;
  bool found = false;
  for (const auto& p : svc.node["spec"]["ports"]) {
    if (p["port"].as<int>() == port) service_port.reset(p), found = true;
  }
  REQUIRE(found);
  CHECK(service_port["name"].as<std::string>("") != "");  // the availability check finds endpoints by port name

  // The Service selects the Deployment's pods, and its targetPort is the
  // container port given to --secure-port.
  const Doc& deploy = One("Deployment", "stash-apiserver", svc.ns());
  YAML::Node pod = deploy.node["spec"]["template"];
  for (const auto& kv : svc.node["spec"]["selector"]) {
    CHECK(pod["metadata"]["labels"][kv.first.as<std::string>()].as<std::string>("") == kv.second.as<std::string>());
  }
  for (const auto& kv : deploy.node["spec"]["selector"]["matchLabels"]) {
    CHECK(pod["metadata"]["labels"][kv.first.as<std::string>()].as<std::string>("") == kv.second.as<std::string>());
  }
  YAML::Node container = pod["spec"]["containers"][0];
  std::string target = service_port["targetPort"].as<std::string>();
  int container_port = 0;
  for (const auto& p : container["ports"]) {
    if (p["name"].as<std::string>("") == target || p["containerPort"].as<std::string>() == target) {
      container_port = p["containerPort"].as<int>();
    }
  }
  REQUIRE(container_port != 0);
  auto args = Strings(container["args"]);
  CHECK(Contains(args, "--secure-port=" + std::to_string(container_port)));
  for (const char* probe : {"readinessProbe", "livenessProbe"}) {
    INFO(probe);
    YAML::Node get = container[probe]["httpGet"];
    CHECK(get["scheme"].as<std::string>() == "HTTPS");
    CHECK((get["port"].as<std::string>() == target || get["port"].as<int>(0) == container_port));
  }
  CHECK(container["readinessProbe"]["httpGet"]["path"].as<std::string>() == "/readyz");
  CHECK(container["livenessProbe"]["httpGet"]["path"].as<std::string>() == "/healthz");
}

TEST_CASE("manifests: the container runs `stash apiserver` with flags it accepts") {
  std::set<std::string> flags = ApiserverFlags();
  const Doc& deploy = One("Deployment", "stash-apiserver", "stash");
  YAML::Node container = deploy.node["spec"]["template"]["spec"]["containers"][0];
  CHECK(container["image"].as<std::string>("") != "");
  auto args = Strings(container["args"]);
  REQUIRE_FALSE(args.empty());
  CHECK(args[0] == "apiserver");
  for (size_t i = 1; i < args.size(); ++i) {
    INFO(args[i]);
    REQUIRE(args[i].rfind("--", 0) == 0);
    std::string name = args[i].substr(2, args[i].find('=') - 2);
    CHECK(flags.count(name) == 1);
    CHECK(args[i].find('=') != std::string::npos);  // --flag=value: no stray positional arguments
  }
  // Health probes must stay reachable without credentials.
  for (const auto& a : args) {
    if (a.rfind("--authorization-always-allow-paths=", 0) == 0) {
      CHECK(a.find("/healthz") != std::string::npos);
      CHECK(a.find("/readyz") != std::string::npos);
    }
  }
}

TEST_CASE("manifests: the ServiceAccount exists and RBAC grants what the server needs") {
  const Doc& deploy = One("Deployment", "stash-apiserver", "stash");
  std::string account = deploy.node["spec"]["template"]["spec"]["serviceAccountName"].as<std::string>("");
  REQUIRE(account != "");
  One("ServiceAccount", account, deploy.ns());
  std::string ns = deploy.ns();
  // Delegated authentication and authorization.
  CHECK(BoundTo("ClusterRoleBinding", "", "ClusterRole", "system:auth-delegator", ns, account));
  CHECK(BoundTo("RoleBinding", "kube-system", "Role", "extension-apiserver-authentication-reader", ns, account));
  // Serving snapshots.
  for (const char* verb : {"get", "list", "watch"}) {
    INFO(verb);
    CHECK(AccountMay(ns, account, "stash.appscode.com", "repositories", verb));
    CHECK(AccountMay(ns, account, "", "namespaces", verb));
    CHECK(AccountMay(ns, account, "", "secrets", verb));  // informers
  }
  // The APIService it registers, the serving certificate it keeps.
  CHECK(AccountMay(ns, account, "apiregistration.k8s.io", "apiservices", "create"));
  CHECK(AccountMay(ns, account, "apiregistration.k8s.io", "apiservices", "patch"));
  CHECK(BoundTo("RoleBinding", "stash", "Role", "stash-apiserver:serving-cert", ns, account));
  const Doc& cert_role = One("Role", "stash-apiserver:serving-cert", "stash");
  CHECK(Contains(Strings(cert_role.node["rules"][0]["verbs"]), "create"));
  CHECK(Contains(Strings(cert_role.node["rules"][0]["resources"]), "secrets"));
  // And no more than that on Secrets.
  CHECK_FALSE(AccountMay(ns, account, "", "secrets", "delete"));
  CHECK_FALSE(AccountMay(ns, account, "", "secrets", "update"));
  // Users get snapshots through the built-in roles.
  bool view = false, edit = false;
  for (const auto& r : OfKind("ClusterRole")) {
    auto labels = r.node["metadata"]["labels"];
    for (const auto& rule : r.node["rules"]) {
      if (!Contains(Strings(rule["apiGroups"]), "repositories.stash.appscode.com")) continue;
      auto verbs = Strings(rule["verbs"]);
      view |= labels["rbac.authorization.k8s.io/aggregate-to-view"].as<std::string>("") == "true" &&
              Contains(verbs, "list") && Contains(verbs, "watch") && !Contains(verbs, "delete");
      edit |= labels["rbac.authorization.k8s.io/aggregate-to-edit"].as<std::string>("") == "true" &&
              Contains(verbs, "delete") && Contains(verbs, "deletecollection");
    }
  }
  CHECK(view);
  CHECK(edit);
}

TEST_CASE("manifests: the Repository CRD is Stash 0.8.3's") {
  const Doc& crd = One("CustomResourceDefinition", "repositories.stash.appscode.com");
  YAML::Node spec = crd.node["spec"];
  CHECK(spec["group"].as<std::string>() == "stash.appscode.com");
  CHECK(crd.name() == spec["names"]["plural"].as<std::string>() + "." + spec["group"].as<std::string>());
  CHECK(spec["names"]["kind"].as<std::string>() == "Repository");
  CHECK(spec["scope"].as<std::string>() == "Namespaced");
  REQUIRE(spec["versions"].size() == 1);
  YAML::Node v = spec["versions"][0];
  CHECK(v["name"].as<std::string>() == "v1alpha1");
  CHECK(v["served"].as<bool>());
  CHECK(v["storage"].as<bool>());
  CHECK(v["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["backend"].IsDefined());
}

TEST_CASE("manifests: the PostgreSQL Tasks run Functions that exist, each a stash command") {
  std::set<std::string> functions;
  for (const auto& f : OfKind("Function")) {
    INFO(f.name());
    functions.insert(f.name());
    std::string image = f.node["spec"]["image"].as<std::string>("");
    std::string last = image.substr(image.rfind('/') == std::string::npos ? 0 : image.rfind('/') + 1);
    CHECK(last.find("stash") != std::string::npos);  // runs the stash binary
    std::string command = f.node["spec"]["args"][0].as<std::string>("");
    CHECK(std::set<std::string>{"backup-pg", "restore-pg", "update-status"}.count(command) == 1);
  }
  std::map<std::string, std::vector<std::string>> want = {
      {"postgres-backup-15", {"postgres-backup-15", "update-status"}},
      {"postgres-restore-15", {"postgres-restore-15", "update-status"}}};
  for (const auto& [task, steps] : want) {
    INFO(task);
    bool found = false;
    for (const auto& t : OfKind("Task")) {
      if (t.name() != task) continue;
      found = true;
      std::vector<std::string> names;
      for (const auto& step : t.node["spec"]["steps"]) names.push_back(step["name"].as<std::string>(""));
      CHECK(names == steps);
      for (const auto& n : names) CHECK(functions.count(n) == 1);
    }
    CHECK(found);
  }
}
