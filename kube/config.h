// Where a Kubernetes API server is and how to prove who we are to it: a
// kubeconfig (as kubectl reads it) or a pod's service account.
//
// kubeconfigs: the current context, or one named; clusters[].cluster server
// and certificate-authority(-data); users[].user client-certificate(-data),
// client-key(-data), token, tokenFile and exec credential plugins (run by
// credentials.h, not here); the context's namespace. Relative file names
// are relative to the kubeconfig's folder. auth-provider users and
// insecure-skip-tls-verify are refused.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace stash::kube {

// A client.authentication.k8s.io exec plugin, as a kubeconfig user names it.
struct ExecConfig {
  std::string command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string api_version;  // client.authentication.k8s.io/v1 or v1beta1
  std::string install_hint;
  bool operator==(const ExecConfig&) const = default;
};

// How to reach and authenticate to a Kubernetes API server.
struct ClusterAccess {
  std::string server;  // https://host:port[/path]
  std::string ca_pem;  // trusted CAs; empty: the system CAs
  std::string client_cert_pem, client_key_pem;
  std::string token;       // a bearer token, or
  std::string token_file;  // one re-read as it rotates, or
  std::optional<ExecConfig> exec;  // a plugin that prints one
  std::string ns;          // the context's namespace ("" when it names none)
};

// The kubeconfig at `path` with context `context` ("" for current-context).
Result<ClusterAccess> LoadKubeconfig(const std::string& path, const std::string& context = "");
// The same from the file's text; `dir` resolves relative file names. Apart
// so the YAML handling can be fuzzed without files.
Result<ClusterAccess> ParseKubeconfig(std::string_view text, const std::string& dir,
                                      const std::string& context = "");

// The in-cluster access of a pod: KUBERNETES_SERVICE_HOST and _PORT, and the
// service account's token, CA and namespace under `account_dir`. nullopt
// when not in a pod.
std::optional<ClusterAccess> InClusterAccess(
    const std::string& account_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// What a command given `--kubeconfig FILE` (may be empty) uses, in
// kubectl's order: that file; else $KUBECONFIG (the first file of the
// list that exists); else the pod's service account; else ~/.kube/config.
// kNotFound when there is none of these.
Result<ClusterAccess> ResolveAccess(const std::string& kubeconfig, const std::string& context = "");

// A kubeconfig with one cluster, user and context, the credentials inline.
struct KubeconfigSpec {
  std::string server;  // https://127.0.0.1:8443
  std::string ca_pem;
  std::string client_cert_pem, client_key_pem;
  std::string name = "stash-apiserver";  // cluster and context
  std::string user = "stash-admin";
  std::string ns = "default";  // the context's namespace
};

std::string RenderKubeconfig(const KubeconfigSpec& spec);

}  // namespace stash::kube
