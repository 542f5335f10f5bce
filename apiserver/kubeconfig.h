// Kubeconfigs: the one written for talking to the standalone server (its
// CA, its address and a client certificate, `--standalone-kubeconfig`), and
// reading one (or the in-cluster service account) to reach a cluster's API
// server for TokenReview and SubjectAccessReview.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

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

// How to reach and authenticate to a Kubernetes API server.
struct ClusterAccess {
  std::string server;  // https://host:port
  std::string ca_pem;  // trusted CAs; empty: the system CAs
  std::string client_cert_pem, client_key_pem;
  std::string token;       // a bearer token, or
  std::string token_file;  // one re-read as it rotates
};

// The current context of the kubeconfig at `path` (clusters, users and
// contexts; certificate-authority, client-certificate, client-key and
// tokenFile paths relative to the file's folder, or the -data forms).
// exec and auth-provider users are refused.
Result<ClusterAccess> LoadKubeconfig(const std::string& path);
// The same from the file's text; `dir` resolves relative file names. Apart
// so the YAML handling can be fuzzed without files.
Result<ClusterAccess> ParseKubeconfig(std::string_view text, const std::string& dir);

// The in-cluster access of a pod: KUBERNETES_SERVICE_HOST and _PORT, and the
// service account's token and CA under `account_dir`. nullopt when not in a
// pod.
std::optional<ClusterAccess> InClusterAccess(
    const std::string& account_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

}  // namespace stash::apiserver
