#include "apiserver/kubeconfig.h"

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

}  // namespace

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
