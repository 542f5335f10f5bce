// Builds the authenticator chain and the authorizer from the options, in
// k8s.io/apiserver's order: front-proxy headers, client certificates,
// bearer tokens (TokenReview); then SubjectAccessReview.
//
// Standalone mode keeps its own policy (admin certificate, read for the
// rest) unless --authorization-kubeconfig is given. In a cluster the
// reviews go to --authentication-kubeconfig / --authorization-kubeconfig,
// or to the in-cluster service account when those are not given.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "apiserver/apiserver.h"
#include "apiserver/auth/auth.h"
#include "apiserver/auth/kube_review.h"

namespace stash::apiserver {

// Everything the chain owns, torn down in reverse order.
struct AuthStack {
  std::vector<std::unique_ptr<kube::Client>> clients;
  std::unique_ptr<TokenReviewer> token_reviewer;
  std::unique_ptr<SubjectAccessReviewer> access_reviewer;
  std::unique_ptr<Authenticator> authenticator;
  std::unique_ptr<Authorizer> authorizer;
};

// The CAs client certificates are checked against, and the front-proxy
// settings.
struct ClientCaConfig {
  std::vector<std::string> client_ca_pems;
  std::vector<std::string> requestheader_ca_pems;  // empty: no front proxy
  RequestHeaderConfig requestheader;
};

// From the flags (--client-ca-file, --requestheader-*); in cluster mode,
// when --requestheader-client-ca-file is not given, from
// kube-system/extension-apiserver-authentication as Kubernetes apiservers
// do (read once at start; failing to read it is fatal).
Result<ClientCaConfig> ResolveClientCas(const Options& options, bool standalone,
                                        const std::optional<kube::ClusterAccess>& in_cluster, LogFn log);

// `in_cluster` is the pod's access (Inkube::ClusterAccess()), used in cluster
// mode when a kubeconfig flag is not given.
Result<std::unique_ptr<AuthStack>> BuildAuth(const Options& options, const ClientCaConfig& cas, bool standalone,
                                             const std::optional<kube::ClusterAccess>& in_cluster, LogFn log);

}  // namespace stash::apiserver
