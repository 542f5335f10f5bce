#include "operator/webhook_server.h"

#include <arpa/inet.h>

namespace stash::op {
namespace {

server::Response Text(int status, const std::string& body, const std::string& type = "text/plain; charset=utf-8") {
  server::Response r;
  r.status = status;
  r.content_type = type;
  r.body = body;
  return r;
}

bool IsIpAddress(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

WebhookServer::WebhookServer(WebhookServerOptions options, StashListers listers, SidecarOptions sidecar,
                             Metrics* metrics, kube::LogFn log)
    : options_(std::move(options)), listers_(std::move(listers)), sidecar_(std::move(sidecar)),
      metrics_(metrics), log_(std::move(log)) {}

WebhookServer::~WebhookServer() { Stop(); }

void WebhookServer::DeclareMetrics(Metrics& metrics) {
  metrics.Counter("stash_operator_admission_reviews_total",
                  "Admission reviews answered, by kind and result (patched, unchanged, denied, invalid).");
}

Result<int> WebhookServer::Start() {
  STASH_ASSIGN_OR_RETURN(ssl_ctx_st * tls, server::MakeServerContext(server::TlsConfig{options_.certificate.serving, {}, {}}));
  server::ServerOptions net;
  net.bind_address = options_.bind_address;
  net.port = options_.port;
  net.threads = options_.threads;
  http_ = std::make_unique<server::HttpServer>(
      net, tls, [this](server::Request r, std::shared_ptr<server::Responder> w) { w->Send(Handle(r)); });
  STASH_ASSIGN_OR_RETURN(int port, http_->Listen());
  http_->Start();
  return port;
}

void WebhookServer::Stop() {
  if (http_) http_->Stop();
  http_.reset();
}

server::Response WebhookServer::Handle(const server::Request& request) {
  if (request.path == "/healthz" || request.path == "/readyz" || request.path == "/livez") return Text(200, "ok");
  if (request.path == "/metrics" && request.method == "GET") {
    return Text(200, metrics_->Render(), "text/plain; version=0.0.4; charset=utf-8");
  }
  if (request.path.rfind(kAdmissionPathPrefix, 0) == 0) {
    if (request.method != "POST") return Text(405, "admission reviews are POSTed\n");
    return Review(request);
  }
  return Text(404, "not found: " + request.path + "\n");
}

server::Response WebhookServer::Review(const server::Request& request) {
  bool restic = request.path == std::string(kAdmissionPathPrefix) + "restics";
  auto outcome = restic ? ReviewRestic(request.body) : ReviewWorkload(request.body, listers_, sidecar_);
  if (!outcome.ok()) {
    metrics_->Add("stash_operator_admission_reviews_total", {{"kind", ""}, {"result", "invalid"}});
    if (log_) log_("admission review from " + request.remote_address + ": " + outcome.error().message());
    return Text(400, outcome.error().message() + "\n");
  }
  metrics_->Add("stash_operator_admission_reviews_total",
                {{"kind", outcome->kind}, {"result", outcome->denied ? "denied" : outcome->patched ? "patched" : "unchanged"}});
  return Text(200, outcome->review_json, "application/json");
}

server::CertificateRequest WebhookCertificateRequest(const kube::ServiceRef& service, const std::string& extra_host) {
  server::CertificateRequest r;
  r.common_name = "stash-operator";
  r.dns_names = {"localhost", service.name, service.DnsName(), service.DnsName() + ".cluster.local"};
  r.ip_addresses = {"127.0.0.1", "::1"};
  if (!extra_host.empty()) (IsIpAddress(extra_host) ? r.ip_addresses : r.dns_names).push_back(extra_host);
  r.server = true;
  return r;
}

}  // namespace stash::op
