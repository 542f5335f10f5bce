#include "apiserver/auth_setup.h"

#include "apiserver/machinery/server_types.h"

namespace stash::apiserver {
namespace {

constexpr auto kReviewTimeout = std::chrono::seconds(10);

// The access named by `kubeconfig`, else the pod's (not in standalone mode,
// which must not change behaviour inside a pod), else none.
Result<std::optional<kube::ClusterAccess>> AccessFor(const std::string& kubeconfig, bool standalone,
                                               const std::optional<kube::ClusterAccess>& in_cluster) {
  if (!kubeconfig.empty()) {
    STASH_ASSIGN_OR_RETURN(kube::ClusterAccess a, kube::LoadKubeconfig(kubeconfig));
    return std::optional<kube::ClusterAccess>(std::move(a));
  }
  if (standalone) return std::optional<kube::ClusterAccess>();
  return in_cluster;
}

Result<std::unique_ptr<kube::Client>> ReviewClient(const kube::ClusterAccess& access) {
  kube::ClientOptions options;
  options.timeout = kReviewTimeout;
  // Reviews sit in the request path: one quick retry, not a long backoff.
  options.max_attempts = 2;
  return kube::Client::Create(access, options);
}

Result<kube::Client*> AddClient(AuthStack& stack, const kube::ClusterAccess& access, const std::string& name) {
  auto client = ReviewClient(access);
  if (!client.ok()) return client.error().Wrap(name);
  stack.clients.push_back(std::move(*client));
  return stack.clients.back().get();
}

Status BuildAuthenticator(AuthStack& stack, const Options& o, const ClientCaConfig& cas, bool standalone,
                          const std::optional<kube::ClusterAccess>& in_cluster, const LogFn& log) {
  std::vector<std::unique_ptr<Authenticator>> chain;
  if (!cas.requestheader_ca_pems.empty()) {
    chain.push_back(std::make_unique<RequestHeaderAuthenticator>(cas.requestheader));
  } else if (!standalone && log) {
    log("No front-proxy CA (--requestheader-client-ca-file or the cluster's): requests through the aggregator "
        "will not authenticate");
  }
  chain.push_back(std::make_unique<ClientCertAuthenticator>());
  STASH_ASSIGN_OR_RETURN(auto access, AccessFor(o.authentication_kubeconfig, standalone, in_cluster));
  if (access) {
    STASH_ASSIGN_OR_RETURN(kube::Client * client, AddClient(stack, *access, "authentication-kubeconfig"));
    stack.token_reviewer = std::make_unique<WebhookTokenReviewer>(client);
    chain.push_back(std::make_unique<TokenReviewAuthenticator>(stack.token_reviewer.get(),
                                                               o.token_cache_ttl, log));
  } else if (!standalone && log) {
    log("No --authentication-kubeconfig and not in a cluster: bearer tokens will not authenticate");
  }
  chain.push_back(std::make_unique<AnonymousPathAuthenticator>(o.always_allow_paths));
  stack.authenticator = std::make_unique<UnionAuthenticator>(std::move(chain));
  return Status::Ok();
}

Status BuildAuthorizer(AuthStack& stack, const Options& o, bool standalone,
                       const std::optional<kube::ClusterAccess>& in_cluster, const LogFn& log) {
  if (standalone && o.authorization_kubeconfig.empty()) {
    stack.authorizer = std::make_unique<StandaloneAuthorizer>();
    return Status::Ok();
  }
  STASH_ASSIGN_OR_RETURN(auto access, AccessFor(o.authorization_kubeconfig, standalone, in_cluster));
  if (access) {
    STASH_ASSIGN_OR_RETURN(kube::Client * client, AddClient(stack, *access, "authorization-kubeconfig"));
    stack.access_reviewer = std::make_unique<WebhookSubjectAccessReviewer>(client);
  } else if (log) {
    log("No --authorization-kubeconfig and not in a cluster: only always-allowed paths and system:masters "
        "are authorized");
  }
  SubjectAccessReviewOptions sar;
  sar.authorized_ttl = o.authorized_cache_ttl;
  sar.unauthorized_ttl = o.unauthorized_cache_ttl;
  sar.always_allow_paths = o.always_allow_paths;
  stack.authorizer = std::make_unique<SubjectAccessReviewAuthorizer>(stack.access_reviewer.get(), sar);
  return Status::Ok();
}

}  // namespace

Result<ClientCaConfig> ResolveClientCas(const Options& o, bool standalone,
                                        const std::optional<kube::ClusterAccess>& in_cluster, LogFn log) {
  ClientCaConfig cas;
  for (const auto& f : o.client_ca_files) {
    STASH_ASSIGN_OR_RETURN(std::string pem, ReadTextFile(f));
    cas.client_ca_pems.push_back(std::move(pem));
  }
  cas.requestheader = o.requestheader;
  if (!o.requestheader_client_ca_file.empty()) {
    STASH_ASSIGN_OR_RETURN(std::string pem, ReadTextFile(o.requestheader_client_ca_file));
    cas.requestheader_ca_pems.push_back(std::move(pem));
    return cas;
  }
  STASH_ASSIGN_OR_RETURN(auto access, AccessFor(o.authentication_kubeconfig, standalone, in_cluster));
  if (!access) return cas;
  auto client = ReviewClient(*access);
  if (!client.ok()) return client.error().Wrap("authentication-kubeconfig");
  STASH_ASSIGN_OR_RETURN(AuthenticationConfig cluster, FetchAuthenticationConfig(**client));
  if (!cluster.requestheader_ca_pem.empty()) {
    cas.requestheader_ca_pems.push_back(cluster.requestheader_ca_pem);
    cas.requestheader = cluster.requestheader;
  }
  if (o.client_ca_files.empty() && !cluster.client_ca_pem.empty()) {
    cas.client_ca_pems.push_back(cluster.client_ca_pem);
  }
  if (log) log("Read the client and front-proxy CAs from kube-system/extension-apiserver-authentication");
  return cas;
}

Result<std::unique_ptr<AuthStack>> BuildAuth(const Options& o, const ClientCaConfig& cas, bool standalone,
                                             const std::optional<kube::ClusterAccess>& in_cluster, LogFn log) {
  auto stack = std::make_unique<AuthStack>();
  STASH_RETURN_IF_ERROR(BuildAuthenticator(*stack, o, cas, standalone, in_cluster, log));
  STASH_RETURN_IF_ERROR(BuildAuthorizer(*stack, o, standalone, in_cluster, log));
  return stack;
}

}  // namespace stash::apiserver
