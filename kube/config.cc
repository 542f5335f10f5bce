#include "kube/config.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>

#include "base/bytes.h"
#include "base/text_file.h"
#include "crypto/encoding.h"
#include "base/go_json.h"

namespace stash::kube {
namespace {

// A YAML double-quoted scalar (JSON string syntax is valid YAML).
std::string Q(const std::string& s) {
  std::string out;
  AppendGoJsonString(out, s);
  return out;
}

std::string B64(const std::string& pem) { return Base64Encode(AsBytes(pem)); }

std::string Scalar(const YAML::Node& map, const char* key) {
  if (!map.IsMap()) return "";
  YAML::Node v = map[key];
  return v.IsDefined() && v.IsScalar() ? v.Scalar() : "";
}

// The `inner` map of the entry named `name` in the list `list`
// (clusters[].cluster, users[].user, contexts[].context).
YAML::Node Named(const YAML::Node& root, const char* list, const char* inner, const std::string& name) {
  YAML::Node entries = root.IsMap() ? root[list] : YAML::Node();
  if (entries.IsDefined() && entries.IsSequence()) {
    for (const auto& e : entries) {
      if (Scalar(e, "name") == name && e[inner].IsDefined() && e[inner].IsMap()) return e[inner];
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

std::string RelativeTo(const std::string& dir, const std::string& file) {
  return file.empty() || file[0] == '/' ? file : dir + "/" + file;
}

// The PEM of `<key>-data` (base64) or of the file `<key>`, relative to `dir`.
Result<std::string> PemField(const YAML::Node& map, const std::string& key, const std::string& dir) {
  std::string data = Scalar(map, (key + "-data").c_str());
  if (!data.empty()) {
    auto decoded = Base64Decode(data);
    if (!decoded) return Invalid(key + "-data is not base64");
    return std::string(decoded->begin(), decoded->end());
  }
  std::string file = Scalar(map, key.c_str());
  if (file.empty()) return std::string();
  return ReadTextFile(RelativeTo(dir, file));
}

Result<ExecConfig> ExecOf(const YAML::Node& exec) {
  if (!exec.IsMap()) return Invalid("user.exec is not a map");
  ExecConfig e;
  e.command = Scalar(exec, "command");
  if (e.command.empty()) return Invalid("user.exec names no command");
  e.api_version = Scalar(exec, "apiVersion");
  if (e.api_version.empty()) e.api_version = "client.authentication.k8s.io/v1";
  if (e.api_version != "client.authentication.k8s.io/v1" &&
      e.api_version != "client.authentication.k8s.io/v1beta1") {
    return Unsupported("exec plugin apiVersion " + e.api_version + " (v1 and v1beta1 are)");
  }
  e.install_hint = Scalar(exec, "installHint");
  if (YAML::Node args = exec["args"]; args.IsDefined() && args.IsSequence()) {
    for (const auto& a : args) {
      if (a.IsScalar()) e.args.push_back(a.Scalar());
    }
  }
  if (YAML::Node env = exec["env"]; env.IsDefined() && env.IsSequence()) {
    for (const auto& v : env) e.env.emplace_back(Scalar(v, "name"), Scalar(v, "value"));
  }
  return e;
}

Status ReadUser(const YAML::Node& user, const std::string& dir, ClusterAccess& a) {
  if (user["auth-provider"].IsDefined()) return Unsupported("auth-provider users are not supported");
  if (user["exec"].IsDefined()) {
    STASH_ASSIGN_OR_RETURN(a.exec, ExecOf(user["exec"]));
  }
  STASH_ASSIGN_OR_RETURN(a.client_cert_pem, PemField(user, "client-certificate", dir));
  STASH_ASSIGN_OR_RETURN(a.client_key_pem, PemField(user, "client-key", dir));
  if (a.client_cert_pem.empty() != a.client_key_pem.empty()) {
    return Invalid("a client certificate needs its key, and the other way round");
  }
  a.token = Scalar(user, "token");
  a.token_file = RelativeTo(dir, Scalar(user, "tokenFile"));
  return Status::Ok();
}

Result<ClusterAccess> FromKubeconfig(const YAML::Node& root, const std::string& dir,
                                     const std::string& wanted_context) {
  std::string context_name = wanted_context.empty() ? Scalar(root, "current-context") : wanted_context;
  if (context_name.empty()) return Invalid("no current-context, and no context was named");
  YAML::Node context = Named(root, "contexts", "context", context_name);
  if (!context.IsDefined()) return Invalid("no context \"" + context_name + "\"");
  YAML::Node cluster = Named(root, "clusters", "cluster", Scalar(context, "cluster"));
  if (!cluster.IsDefined()) return Invalid("no cluster \"" + Scalar(context, "cluster") + "\"");
  ClusterAccess a;
  a.ns = Scalar(context, "namespace");
  a.server = Scalar(cluster, "server");
  if (a.server.empty()) return Invalid("the cluster names no server");
  if (Scalar(cluster, "insecure-skip-tls-verify") == "true") {
    return Unsupported("insecure-skip-tls-verify is not supported; give certificate-authority");
  }
  STASH_ASSIGN_OR_RETURN(a.ca_pem, PemField(cluster, "certificate-authority", dir));
  YAML::Node user = Named(root, "users", "user", Scalar(context, "user"));
  if (!user.IsDefined()) return a;  // e.g. only the CA, no credentials
  STASH_RETURN_IF_ERROR(ReadUser(user, dir, a));
  return a;
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

Result<ClusterAccess> ParseKubeconfig(std::string_view text, const std::string& dir,
                                      const std::string& context) {
  try {
    return FromKubeconfig(YAML::Load(std::string(text)), dir, context);
  } catch (const std::exception& e) {
    return Invalid(e.what());
  }
}

Result<ClusterAccess> LoadKubeconfig(const std::string& path, const std::string& context) {
  auto text = ReadTextFile(path);
  if (!text.ok()) return NotFound("kubeconfig " + path + ": cannot read the file");
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  auto access = ParseKubeconfig(*text, dir, context);
  if (!access.ok()) return access.error().Wrap("kubeconfig " + path);
  return access;
}

std::optional<ClusterAccess> InClusterAccess(const std::string& account_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  std::string token_file = account_dir + "/token";
  if (!host || !*host || !port || !*port || !FileExists(token_file)) return std::nullopt;
  ClusterAccess a;
  std::string h = host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  a.server = "https://" + h + ":" + port;
  a.token_file = token_file;
  auto ca = ReadTextFile(account_dir + "/ca.crt");
  if (ca.ok()) a.ca_pem = *ca;
  auto ns = ReadTextFile(account_dir + "/namespace");
  if (ns.ok()) a.ns = *ns;
  return a;
}

Result<ClusterAccess> ResolveAccess(const std::string& kubeconfig, const std::string& context) {
  if (!kubeconfig.empty()) return LoadKubeconfig(kubeconfig, context);
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    std::string list = env;
    size_t start = 0;
    while (start <= list.size()) {
      size_t end = list.find(':', start);
      if (end == std::string::npos) end = list.size();
      std::string file = list.substr(start, end - start);
      if (!file.empty() && FileExists(file)) return LoadKubeconfig(file, context);
      start = end + 1;
    }
  }
  if (auto pod = InClusterAccess()) return *pod;
  if (const char* home = std::getenv("HOME"); home && *home) {
    std::string file = std::string(home) + "/.kube/config";
    if (FileExists(file)) return LoadKubeconfig(file, context);
  }
  return NotFound("no cluster to talk to: give --kubeconfig, set KUBECONFIG, or run in a pod");
}

std::string RenderKubeconfig(const KubeconfigSpec& s) {
  std::string y;
  y += "apiVersion: v1\nkind: Config\n";
  y += "clusters:\n- name: " + Q(s.name) + "\n  cluster:\n";
  y += "    server: " + Q(s.server) + "\n";
  y += "    certificate-authority-data: " + B64(s.ca_pem) + "\n";
  y += "users:\n- name: " + Q(s.user) + "\n  user:\n";
  y += "    client-certificate-data: " + B64(s.client_cert_pem) + "\n";
  y += "    client-key-data: " + B64(s.client_key_pem) + "\n";
  y += "contexts:\n- name: " + Q(s.name) + "\n  context:\n";
  y += "    cluster: " + Q(s.name) + "\n    user: " + Q(s.user) + "\n    namespace: " + Q(s.ns) + "\n";
  y += "current-context: " + Q(s.name) + "\npreferences: {}\n";
  return y;
}

}  // namespace stash::kube
