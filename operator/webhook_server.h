// The operator's HTTPS endpoint: the mutating admission webhook for the
// workload kinds, at /apis/admission.stash.appscode.com/v1alpha1/<plural>
// as Stash 0.8.3 served it, plus /metrics (Prometheus text) and /healthz.
//
// Every request is answered on the network thread that read it: a review
// reads Restics from an informer's memory and computes a patch, nothing
// that waits on the network or a disk.
#pragma once

#include <memory>
#include <string>

#include "base/metrics.h"
#include "base/result.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "kube/serving_certificate.h"
#include "net/server/http_server.h"
#include "operator/admission.h"

namespace stash::op {

inline constexpr char kAdmissionPathPrefix[] = "/apis/admission.stash.appscode.com/v1alpha1/";

struct WebhookServerOptions {
  std::string bind_address = "0.0.0.0";
  int port = 8443;  // 0 picks a free port
  size_t threads = 2;
  kube::ServingCertificate certificate;
};

class WebhookServer {
 public:
  // `metrics` is rendered at /metrics; the server adds its request counts.
  WebhookServer(WebhookServerOptions options, StashListers listers, SidecarOptions sidecar, Metrics* metrics,
                kube::LogFn log);
  ~WebhookServer();

  // Listens and starts serving; returns the port.
  Result<int> Start();
  void Stop();

  static void DeclareMetrics(Metrics& metrics);

 private:
  server::Response Handle(const server::Request& request);
  server::Response Review(const server::Request& request);

  WebhookServerOptions options_;
  StashListers listers_;
  SidecarOptions sidecar_;
  Metrics* metrics_;
  kube::LogFn log_;
  std::unique_ptr<server::HttpServer> http_;
};

// The serving certificate's request: the Service's DNS names, localhost
// and loopback addresses, and `extra_host` (the host of --webhook-url).
server::CertificateRequest WebhookCertificateRequest(const kube::ServiceRef& service, const std::string& extra_host);

}  // namespace stash::op
