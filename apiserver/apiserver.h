// `stash apiserver`: the Snapshot extension apiserver, assembled.
//
// Standalone mode (`standalone_manifests`) serves the Repositories of a
// folder of manifests; the server makes a CA at start, signs its serving
// certificate (unless one is given) and an admin client certificate with
// it, and writes a kubeconfig for kubectl.
//
// Otherwise it serves a cluster (`kubeconfig`, else the pod's service
// account): Repositories and Secrets come from informers (cluster_source.h),
// the serving certificate is kept in a Secret so replicas share it, and the
// APIService is registered with that certificate's CA (apiservice.h).
// Delegated authentication (front-proxy headers, TokenReview) and
// authorization (SubjectAccessReview) are set up by auth_setup.h.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "apiserver/auth/delegated_auth.h"

namespace stash::apiserver {

struct Options {
  std::string bind_address = "0.0.0.0";
  int secure_port = 8443;  // 0 picks a free port (the kubeconfig names it)
  std::string tls_cert_file, tls_private_key_file;
  std::vector<std::string> client_ca_files;
  // Delegated authentication and authorization, named as Kubernetes
  // apiservers name their flags (delegated_auth.h).
  std::string requestheader_client_ca_file;
  RequestHeaderConfig requestheader;
  std::string authentication_kubeconfig, authorization_kubeconfig;
  std::chrono::milliseconds token_cache_ttl{10000};
  std::chrono::milliseconds authorized_cache_ttl{10000};
  std::chrono::milliseconds unauthorized_cache_ttl{10000};
  std::vector<std::string> always_allow_paths = {"/healthz", "/readyz", "/livez"};
  std::string standalone_manifests;
  std::string standalone_kubeconfig;
  // Cluster mode.
  std::string kubeconfig;
  std::string apiservice_service = "stash/stash-apiserver:443";
  bool register_apiservice = true;
  std::string serving_cert_secret = "stash/stash-apiserver-cert";
  std::chrono::milliseconds refresh_interval{2000};
  std::chrono::milliseconds backend_timeout{10000};
  // A background prune of a repository this long after deletes from it;
  // none with prune_after_delete off (deletes then act as `restic forget`).
  bool prune_after_delete = true;
  std::chrono::milliseconds prune_delay{30000};
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::seconds min_request_timeout{1800};
  // Readiness fails this long before the server stops, so load balancers
  // stop sending requests first.
  std::chrono::milliseconds shutdown_delay{0};
  // Threads: network ones only parse, route and write; request handlers,
  // backend calls and reviews (TokenReview, SubjectAccessReview) each have
  // a pool. Requests waiting for a review beyond the ones being made and
  // `max_queued_reviews` more are answered 429.
  size_t network_threads = 2;
  size_t request_threads = 8;
  size_t backend_threads = 8;
  size_t auth_threads = 8;
  size_t max_queued_reviews = 64;
};

// Serves until SIGINT or SIGTERM; returns the process exit code. Errors
// before serving are printed as one line naming what failed.
int Run(const Options& options);

}  // namespace stash::apiserver
