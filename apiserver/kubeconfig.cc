#include "apiserver/kubeconfig.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>

#include "apiserver/tls.h"
#include "base/bytes.h"
#include "crypto/encoding.h"
#include "storage/go_json.h"

namespace stash::apiserver {
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
  return ReadTextFile(file[0] == '/' ? file : dir + "/" + file);
}

Result<ClusterAccess> FromKubeconfig(const YAML::Node& root, const std::string& dir) {
  std::string context_name = Scalar(root, "current-context");
  YAML::Node context = Named(root, "contexts", "context", context_name);
  if (!context.IsDefined()) return Invalid("no current context \"" + context_name + "\"");
  YAML::Node cluster = Named(root, "clusters", "cluster", Scalar(context, "cluster"));
  if (!cluster.IsDefined()) return Invalid("no cluster \"" + Scalar(context, "cluster") + "\"");
  YAML::Node user = Named(root, "users", "user", Scalar(context, "user"));
  ClusterAccess a;
  a.server = Scalar(cluster, "server");
  if (a.server.empty()) return Invalid("the cluster names no server");
  if (Scalar(cluster, "insecure-skip-tls-verify") == "true") {
    return Unsupported("insecure-skip-tls-verify is not supported; give certificate-authority");
  }
  STASH_ASSIGN_OR_RETURN(a.ca_pem, PemField(cluster, "certificate-authority", dir));
  if (!user.IsDefined()) return a;  // e.g. only the CA, no credentials
  if (user["exec"].IsDefined() || user["auth-provider"].IsDefined()) {
    return Unsupported("exec and auth-provider users are not supported");
  }
  STASH_ASSIGN_OR_RETURN(a.client_cert_pem, PemField(user, "client-certificate", dir));
  STASH_ASSIGN_OR_RETURN(a.client_key_pem, PemField(user, "client-key", dir));
  if (a.client_cert_pem.empty() != a.client_key_pem.empty()) {
    return Invalid("a client certificate needs its key, and the other way round");
  }
  a.token = Scalar(user, "token");
  std::string token_file = Scalar(user, "tokenFile");
  if (!token_file.empty()) a.token_file = token_file[0] == '/' ? token_file : dir + "/" + token_file;
  return a;
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

Result<ClusterAccess> ParseKubeconfig(std::string_view text, const std::string& dir) {
  try {
    return FromKubeconfig(YAML::Load(std::string(text)), dir);
  } catch (const std::exception& e) {
    return Invalid(e.what());
  }
}

Result<ClusterAccess> LoadKubeconfig(const std::string& path) {
  STASH_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  auto access = ParseKubeconfig(text, dir);
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
  return a;
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

}  // namespace stash::apiserver
