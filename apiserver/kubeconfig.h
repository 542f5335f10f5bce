// A kubeconfig for talking to the standalone server: its CA, its address
// and a client certificate (`--standalone-kubeconfig`).
#pragma once

#include <string>

namespace stash::apiserver {

struct KubeconfigSpec {
  std::string server;  // https://127.0.0.1:8443
  std::string ca_pem;
  std::string client_cert_pem, client_key_pem;
  std::string name = "stash-apiserver";  // cluster and context
  std::string user = "stash-admin";
  std::string ns = "default";  // the context's namespace
};

std::string RenderKubeconfig(const KubeconfigSpec& spec);

}  // namespace stash::apiserver
