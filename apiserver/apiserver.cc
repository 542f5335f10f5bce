#include "apiserver/apiserver.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <mutex>
#include <thread>

#include "apiserver/auth/auth.h"
#include "apiserver/apiservice.h"
#include "apiserver/auth_setup.h"
#include "apiserver/snapshots/cluster_source.h"
#include "apiserver/machinery/health.h"
#include "apiserver/machinery/server_types.h"
#include "kube/config.h"
#include "base/metrics.h"
#include "apiserver/machinery/rest_handler.h"
#include "apiserver/router.h"
#include "apiserver/snapshots/snapshot_storage.h"
#include "apiserver/snapshots/standalone_source.h"
#include "base/thread_pool.h"
#include "apiserver/machinery/watch_session.h"
#include "base/log.h"

namespace stash::apiserver {
namespace {

void Log(const std::string& line) { LogLine(line); }

int Fail(const std::string& message) {
  std::fprintf(stderr, "Fatal: %s\n", message.c_str());
  return 1;
}

std::string Hostname() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

struct Certificates {
  CertificateAndKey ca;       // signs the admin certificate (and serving one when made here)
  CertificateAndKey serving;  // what the server presents
  CertificateAndKey admin;    // for the kubeconfig
  std::vector<std::string> client_cas;
};

Result<Certificates> MakeCertificates(const Options& o) {
  Certificates c;
  STASH_ASSIGN_OR_RETURN(c.ca, GenerateCa("stash-apiserver-ca@" + std::to_string(time(nullptr)), 3650));
  if (!o.tls_cert_file.empty() || !o.tls_private_key_file.empty()) {
    if (o.tls_cert_file.empty() || o.tls_private_key_file.empty()) {
      return Invalid("--tls-cert-file and --tls-private-key-file must be given together");
    }
    STASH_ASSIGN_OR_RETURN(c.serving.cert_pem, ReadTextFile(o.tls_cert_file));
    STASH_ASSIGN_OR_RETURN(c.serving.key_pem, ReadTextFile(o.tls_private_key_file));
  } else {
    CertificateRequest r;
    r.common_name = "stash-apiserver";
    r.dns_names = {"localhost", "stash-apiserver", "stash-apiserver.stash.svc"};
    if (auto service = ParseServiceRef(o.apiservice_service); service.ok()) {
      r.dns_names.push_back(service->DnsName());
      r.dns_names.push_back(service->DnsName() + ".cluster.local");
    }
    if (auto h = Hostname(); !h.empty() && h != "localhost") r.dns_names.push_back(h);
    r.ip_addresses = {"127.0.0.1", "::1"};
    if (o.bind_address != "0.0.0.0" && o.bind_address != "::" && o.bind_address != "127.0.0.1") {
      r.ip_addresses.push_back(o.bind_address);
    }
    r.server = true;
    STASH_ASSIGN_OR_RETURN(c.serving, IssueCertificate(c.ca, r));
  }
  CertificateRequest admin;
  admin.common_name = "stash-admin";
  admin.organizations = {"system:masters"};
  admin.client = true;
  STASH_ASSIGN_OR_RETURN(c.admin, IssueCertificate(c.ca, admin));
  // The admin certificate is only handed out in standalone mode.
  if (!o.standalone_manifests.empty()) c.client_cas.push_back(c.ca.cert_pem);
  return c;
}

Status WriteKubeconfig(const Options& o, const Certificates& c, int port) {
  kube::KubeconfigSpec k;
  std::string host = o.bind_address == "0.0.0.0" || o.bind_address == "::" ? "127.0.0.1" : o.bind_address;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  k.server = "https://" + host + ":" + std::to_string(port);
  // With a given serving certificate, trust the certificate (chain) itself.
  k.ca_pem = o.tls_cert_file.empty() ? c.ca.cert_pem : c.serving.cert_pem;
  k.client_cert_pem = c.admin.cert_pem;
  k.client_key_pem = c.admin.key_pem;
  return WriteTextFile(o.standalone_kubeconfig, kube::RenderKubeconfig(k), 0600);
}

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// Everything that runs, in the order it is built (and torn down in reverse).
struct Server {
  explicit Server(const Options& o)
      : backend_pool(o.backend_threads), request_pool(o.request_threads),
        auth_pool(o.auth_threads, o.max_queued_reviews) {}

  Metrics metrics;
  HealthChecks health;
  ThreadPool backend_pool;
  ThreadPool request_pool;
  ThreadPool auth_pool;  // bounded: the router's TrySubmit answers 429 when full
  WatchManager watches;
  std::unique_ptr<kube::Client> cluster;  // cluster mode only
  std::unique_ptr<RepositorySource> source;
  std::unique_ptr<SnapshotStorage> storage;
  std::unique_ptr<RestHandler> snapshots;
  std::unique_ptr<AuthStack> auth;
  std::unique_ptr<Router> router;
  std::unique_ptr<HttpServer> http;
  std::atomic<bool> stopping{false};
};

void AddHealthChecks(Server& s, std::chrono::milliseconds warm_limit) {
  auto started = std::chrono::steady_clock::now();
  s.health.Add("ping", [] { return true; });
  s.health.Add("log", [] { return true; });
  // Ready once every repository was tried, or after the backend timeout:
  // a hung backend must not keep the server out of service.
  s.health.Add("poststarthook/snapshot-caches-warm", [&s, started, warm_limit] {
    return s.storage->Synced() || std::chrono::steady_clock::now() - started > warm_limit;
  }, HealthChecks::kReadyOnly);
  s.health.Add("shutdown", [&s] { return !s.stopping; }, HealthChecks::kReadyOnly);
}

// Stops in order: readiness, watches (final chunks), network, pollers,
// pools. Returns false when a backend call or a review is stuck and threads
// are left.
bool Shutdown(Server& s, const Options& o) {
  s.stopping = true;
  if (o.shutdown_delay.count() > 0) std::this_thread::sleep_for(o.shutdown_delay);
  s.watches.Stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let final chunks go out
  s.http->Stop();
  s.storage->Stop();
  // Reviews first: a finished one hands its request to the request pool.
  bool reviews = s.auth_pool.Shutdown(std::chrono::seconds(3));
  bool requests = s.request_pool.Shutdown(std::chrono::seconds(3));
  bool backends = s.backend_pool.Shutdown(std::chrono::seconds(3));
  return reviews && requests && backends;
}

// Cluster mode: the generated serving certificate lives in a Secret, so
// every replica presents one the APIService's caBundle trusts.
Result<Certificates> ClusterCertificates(const Options& o, kube::Client& cluster) {
  STASH_ASSIGN_OR_RETURN(Certificates certs, MakeCertificates(o));
  if (!o.tls_cert_file.empty()) return certs;
  auto shared = SharedServingCertificate(cluster, o.serving_cert_secret, [&]() -> Result<ServingCertificate> {
    return ServingCertificate{certs.ca, certs.serving};
  });
  if (!shared.ok()) return shared.error().Wrap("--serving-cert-secret");
  certs.ca = shared->ca;
  certs.serving = shared->serving;
  return certs;
}

Result<std::unique_ptr<kube::Client>> ConnectCluster(const kube::ClusterAccess& access) {
  auto client = kube::Client::Create(access);
  if (!client.ok()) return client.error().Wrap("cluster " + access.server);
  // One quick authenticated look first, so a cluster that is not there or a
  // token it refuses is one clear error rather than informers retrying until
  // the start timeout.
  auto probe = (*client)->Request("GET", "/api/v1/namespaces?limit=1");
  if (!probe.ok()) return probe.error().Wrap("cluster " + access.server);
  return client;
}

Result<std::unique_ptr<RepositorySource>> MakeSource(const Options& o, kube::Client* cluster) {
  if (!cluster) {
    STASH_ASSIGN_OR_RETURN(auto source, StandaloneSource::Load(o.standalone_manifests));
    return std::unique_ptr<RepositorySource>(std::move(source));
  }
  auto source = std::make_unique<ClusterSource>(cluster, Log);
  STASH_RETURN_IF_ERROR(source->Start(std::chrono::seconds(30)));
  return std::unique_ptr<RepositorySource>(std::move(source));
}

}  // namespace

int Run(const Options& o) {
  // Signals are taken by sigwait below; block them before any thread starts.
  sigset_t signals = StopSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  bool standalone = !o.standalone_manifests.empty();
  auto s = std::make_unique<Server>(o);
  std::optional<kube::ClusterAccess> access;
  if (!standalone) {
    auto resolved = kube::ResolveAccess(o.kubeconfig);
    if (!resolved.ok()) return Fail(resolved.error().message());
    access = *resolved;
    auto cluster = ConnectCluster(*access);
    if (!cluster.ok()) return Fail(cluster.error().message());
    s->cluster = std::move(*cluster);
  }
  auto source = MakeSource(o, s->cluster.get());
  if (!source.ok()) return Fail(source.error().message());
  s->source = std::move(*source);
  auto certs = standalone ? MakeCertificates(o) : ClusterCertificates(o, *s->cluster);
  if (!certs.ok()) return Fail(certs.error().message());
  auto cas = ResolveClientCas(o, standalone, access, Log);
  if (!cas.ok()) return Fail(cas.error().message());
  certs->client_cas.insert(certs->client_cas.end(), cas->client_ca_pems.begin(), cas->client_ca_pems.end());
  auto tls = MakeServerContext(TlsConfig{certs->serving, certs->client_cas, cas->requestheader_ca_pems});
  if (!tls.ok()) return Fail("TLS: " + tls.error().message());

  Router::DeclareMetrics(s->metrics);
  SnapshotStorage::DeclareMetrics(s->metrics);
  SnapshotStorageOptions storage_options;
  storage_options.refresh_interval = o.refresh_interval;
  storage_options.backend_timeout = o.backend_timeout;
  storage_options.prune_after_delete = o.prune_after_delete;
  storage_options.prune.delay = o.prune_delay;
  s->storage = std::make_unique<SnapshotStorage>(*s->source, s->backend_pool, &s->metrics, storage_options);
  RestOptions rest;
  rest.min_watch_timeout = o.min_request_timeout;
  s->snapshots = std::make_unique<RestHandler>(*s->storage, s->request_pool, s->watches, rest);
  auto auth = BuildAuth(o, *cas, standalone, access, Log);
  if (!auth.ok()) return Fail(auth.error().message());
  s->auth = std::move(*auth);
  AddHealthChecks(*s, o.backend_timeout);
  s->router = std::make_unique<Router>(RouterParts{&s->health, s->auth->authenticator.get(),
                                                   s->auth->authorizer.get(), &s->metrics, {s->snapshots.get()},
                                                   Log, [&src = *s->source](const std::string& ns) {
                                                     return src.NamespacePhase(ns);
                                                   }, &s->auth_pool});
  ServerOptions net;
  net.bind_address = o.bind_address;
  net.port = o.secure_port;
  net.threads = o.network_threads;
  net.read_timeout = o.read_timeout;
  net.error_response = UnreadableRequestResponse;
  Router* router = s->router.get();
  s->http = std::make_unique<HttpServer>(net, *tls, [router](Request r, std::shared_ptr<Responder> w) {
    router->Handle(std::move(r), std::move(w));
  });
  auto port = s->http->Listen();
  if (!port.ok()) return Fail(port.error().message());
  if (!o.standalone_kubeconfig.empty()) {
    Status k = WriteKubeconfig(o, *certs, *port);
    if (!k.ok()) return Fail(k.error().message());
  }
  if (!standalone && o.register_apiservice) {
    auto service = ParseServiceRef(o.apiservice_service);
    if (!service.ok()) return Fail(service.error().Wrap("--apiservice-service").message());
    Status registered = RegisterApiService(*s->cluster, *service, certs->ca.cert_pem);
    if (!registered.ok()) return Fail(registered.error().message());
    Log("Registered APIService " + std::string(kApiServiceName) + " for Service " + service->ns + "/" +
        service->name + ":" + std::to_string(service->port));
  }
  s->storage->Start();
  s->http->Start();
  Log("Serving " + std::to_string(s->source->Repositories().size()) + " repositories securely on " +
      o.bind_address + ":" + std::to_string(*port));

  int sig = 0;
  sigwait(&signals, &sig);
  Log(std::string("Received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ", shutting down");
  if (!Shutdown(*s, o)) {
    // A backend call (a hung mount) or a review is stuck: its thread cannot
    // be joined, and nothing else is left to do.
    Log("backend calls or reviews still running; exiting without waiting for them");
    std::_Exit(0);
  }
  return 0;
}

}  // namespace stash::apiserver
