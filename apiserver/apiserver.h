// `stash apiserver`: the Snapshot extension apiserver, assembled.
//
// Standalone mode (`standalone_manifests`) serves the Repositories of a
// folder of manifests; the server makes a CA at start, signs its serving
// certificate (unless one is given) and an admin client certificate with
// it, and writes a kubeconfig for kubectl. The in-cluster RepositorySource
// (Kubernetes API) and delegated authentication are later parts.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace stash::apiserver {

struct Options {
  std::string bind_address = "0.0.0.0";
  int secure_port = 8443;  // 0 picks a free port (the kubeconfig names it)
  std::string tls_cert_file, tls_private_key_file;
  std::vector<std::string> client_ca_files;
  std::string standalone_manifests;
  std::string standalone_kubeconfig;
  std::chrono::milliseconds refresh_interval{2000};
  std::chrono::milliseconds backend_timeout{10000};
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::seconds min_request_timeout{1800};
  // Readiness fails this long before the server stops, so load balancers
  // stop sending requests first.
  std::chrono::milliseconds shutdown_delay{0};
};

// Serves until SIGINT or SIGTERM; returns the process exit code. Errors
// before serving are printed as one line naming what failed.
int Run(const Options& options);

}  // namespace stash::apiserver
