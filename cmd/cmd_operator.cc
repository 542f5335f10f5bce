// stash operator: the reconcilers of the Stash kinds. Today: Restic
// sidecars in the workloads a Restic selects, kept by a controller and, on
// admission, by a mutating webhook; Recoveries carried out by restore
// Jobs. With leader election (a Lease), so replicas can run side by side
// and one acts at a time; every replica serves the webhook and /metrics.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "base/log.h"
#include "base/metrics.h"
#include "cmd/commands.h"
#include "kube/config.h"
#include "kube/leader_election.h"
#include "kube/serving_certificate.h"
#include "net/server/tls.h"
#include "operator/recovery_controller.h"
#include "operator/recovery_job.h"
#include "operator/restic_controller.h"
#include "operator/v1beta1_controller.h"
#include "operator/v1beta1_objects.h"
#include "operator/webhook_registration.h"
#include "operator/webhook_server.h"

namespace stash::cli {
namespace {

void Log(const std::string& line) { LogLine(line); }

std::string DefaultIdentity() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  const char* pod = std::getenv("POD_NAME");
  return (pod && *pod ? std::string(pod) : std::string(host)) + "_" + std::to_string(getpid());
}

// The host of an https URL ("https://HOST:PORT/path" -> HOST).
std::string UrlHost(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t end = url.find_first_of(":/", url[start] == '[' ? url.find(']', start) : start);
  std::string host = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return host;
}

// The webhook's serving certificate, shared by the replicas through a
// Secret so the registered caBundle fits each of them.
Result<kube::ServingCertificate> WebhookCertificate(kube::Client& client, const Args& args,
                                                    const op::WebhookEndpoint& endpoint) {
  return kube::SharedServingCertificate(
      client, args.Get("serving-cert-secret", "stash/stash-operator-cert"), [&]() -> Result<kube::ServingCertificate> {
        kube::ServingCertificate c;
        STASH_ASSIGN_OR_RETURN(c.ca, server::GenerateCa("stash-operator-ca@" + std::to_string(time(nullptr)), 3650));
        STASH_ASSIGN_OR_RETURN(c.serving, server::IssueCertificate(c.ca, op::WebhookCertificateRequest(
                                                                              endpoint.service, UrlHost(endpoint.url))));
        return c;
      });
}

// Serves the webhook and /metrics, and registers the webhook unless told
// not to. Fatal problems come back as an error naming the flag or object.
Result<std::unique_ptr<op::WebhookServer>> StartWebhook(kube::Client& client, const Args& args,
                                                        const op::StashListers& listers,
                                                        const op::SidecarOptions& sidecar,
                                                        Metrics& metrics) {
  op::WebhookEndpoint endpoint;
  endpoint.url = args.Get("webhook-url");
  if (!endpoint.url.empty() && endpoint.url.rfind("https://", 0) != 0) {
    return Invalid("--webhook-url " + endpoint.url + ": want https://HOST:PORT[/path]");
  }
  auto service = kube::ParseServiceRef(args.Get("webhook-service", "stash/stash-operator:443"));
  if (!service.ok()) return service.error().Wrap("--webhook-service");
  endpoint.service = *service;
  auto certificate = WebhookCertificate(client, args, endpoint);
  if (!certificate.ok()) return certificate.error().Wrap("--serving-cert-secret");
  op::WebhookServerOptions options;
  options.bind_address = args.Get("webhook-bind-address", options.bind_address);
  options.port = std::atoi(args.Get("webhook-port", "8443").c_str());
  options.certificate = *certificate;
  op::WebhookServer::DeclareMetrics(metrics);
  auto server = std::make_unique<op::WebhookServer>(options, listers, sidecar, &metrics, Log);
  auto port = server->Start();
  if (!port.ok()) return port.error().Wrap("webhook on " + options.bind_address + ":" + std::to_string(options.port));
  Log("webhook and /metrics serving on " + options.bind_address + ":" + std::to_string(*port));
  if (args.Has("no-register-webhook")) return server;
  Status registered = op::RegisterWebhooks(client, endpoint, certificate->ca.cert_pem);
  if (!registered.ok()) return registered.error();
  return server;
}

// Runs the controllers while this replica leads.
void Lead(kube::Client& client, const op::SidecarOptions& sidecar, Metrics& metrics, const std::atomic<bool>& lost) {
  kube::EventRecorder events(&client, "stash-operator", DefaultIdentity(), Log);
  op::ResticController restics(&client, &events, sidecar, Log);
  Status started = restics.Start(std::chrono::seconds(60));
  if (!started.ok()) {
    Log("cannot start the Restic controller: " + started.error().message());
    return;  // the elector tries again
  }
  Log("Restic controller running");
  op::RecoveryController recoveries(&client, &events, op::RecoveryJobOptions{sidecar.image}, Log);
  started = recoveries.Start(std::chrono::seconds(60));
  if (!started.ok()) {
    Log("cannot start the Recovery controller: " + started.error().message());
    return;
  }
  Log("Recovery controller running");
  op::V1beta1Controller v1beta1(&client, &events, op::V1beta1Options{sidecar.image, sidecar.pushgateway_url, &metrics},
                                Log);
  started = v1beta1.Start(std::chrono::seconds(60));
  if (!started.ok()) {
    Log("cannot start the v1beta1 controller: " + started.error().message());
    return;
  }
  Log("v1beta1 controller running (BackupConfigurations, BackupSessions, RestoreSessions)");
  while (!lost) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  v1beta1.Stop();
  recoveries.Stop();
  restics.Stop();
}

int RunOperator(const Args& args, const Globals&) {
  if (!args.positional().empty()) return Fatal("operator takes no arguments");
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto access = kube::ResolveAccess(args.Get("kubeconfig"));
  if (!access.ok()) return Fatal(access.error());
  auto client = kube::Client::Create(*access);
  if (!client.ok()) return Fatal(client.error().Wrap("cluster " + access->server));
  auto probe = (*client)->Request("GET", "/apis/stash.appscode.com/v1alpha1/restics?limit=1");
  if (!probe.ok()) return Fatal(probe.error().Wrap("cluster " + access->server));

  op::SidecarOptions sidecar;
  sidecar.image = args.Get("image", sidecar.image);
  sidecar.pushgateway_url = args.Get("pushgateway-url");
  kube::LeaderElectionConfig election;
  election.ns = args.Get("lease-namespace", access->ns.empty() || access->ns == "default" ? "stash" : access->ns);
  election.name = args.Get("lease-name", "stash-operator");
  election.identity = args.Get("identity", DefaultIdentity());

  Metrics metrics;
  metrics.Gauge("stash_operator_leader", "1 while this replica leads and runs the controllers.");
  metrics.Set("stash_operator_leader", {}, 0);
  op::V1beta1Controller::DeclareMetrics(metrics);
  // Every replica answers admission reviews, so every replica watches what
  // may claim a workload: Restics, BackupConfigurations, RestoreSessions,
  // and the Repositories they name.
  kube::Informer restics(client->get(), op::kRestics, "", {}, Log);
  kube::Informer backup_configurations(client->get(), op::kBackupConfigurations, "", {}, Log);
  kube::Informer restore_sessions(client->get(), op::kRestoreSessions, "", {}, Log);
  kube::Informer repositories(client->get(), op::kRepositories, "", {}, Log);
  kube::Informer* watched[] = {&restics, &backup_configurations, &restore_sessions, &repositories};
  std::unique_ptr<op::WebhookServer> webhook;
  if (!args.Has("no-webhook")) {
    for (auto* i : watched) i->Start();
    for (auto* i : watched) {
      if (!i->WaitForSync(std::chrono::seconds(60))) {
        return Fatal("cannot list " + i->resource().plural + ": " + i->problem());
      }
    }
    op::StashListers listers;
    listers.restics = [&restics](const std::string& ns) { return restics.List(ns); };
    listers.backup_configurations = [&backup_configurations](const std::string& ns) {
      return backup_configurations.List(ns);
    };
    listers.restore_sessions = [&restore_sessions](const std::string& ns) { return restore_sessions.List(ns); };
    listers.repository = [&repositories](const std::string& ns, const std::string& name) {
      return repositories.Get(ns, name);
    };
    auto started = StartWebhook(**client, args, listers, sidecar, metrics);
    if (!started.ok()) return Fatal(started.error());
    webhook = std::move(*started);
  }

  auto lead = [&](const std::atomic<bool>& lost) {
    metrics.Set("stash_operator_leader", {}, 1);
    Lead(**client, sidecar, metrics, lost);
    metrics.Set("stash_operator_leader", {}, 0);
  };
  std::atomic<bool> stop{false};
  std::thread worker([&] {
    if (args.Has("no-leader-elect")) {
      lead(stop);
      return;
    }
    kube::LeaderElector elector(client->get(), election, Log);
    elector.Run([&](const std::atomic<bool>& lost) { lead(lost); }, stop);
  });
  Log("stash operator started (" + election.identity + ")");
  int sig = 0;
  sigwait(&signals, &sig);
  Log(std::string("Received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ", shutting down");
  stop = true;
  worker.join();
  if (webhook) webhook->Stop();
  for (auto* i : watched) i->Stop();
  return 0;
}

std::vector<FlagSpec> OperatorFlags() {
  return {
      {"kubeconfig", 0, true, "cluster to reconcile (default: $KUBECONFIG, then the pod's service account)"},
      {"image", 0, true, "image of the injected stash sidecars, Recovery Jobs and backup CronJobs (default stash:0.1.0)"},
      {"pushgateway-url", 0, true, "Prometheus Pushgateway the sidecars push their metrics to"},
      {"lease-namespace", 0, true, "namespace of the leader election Lease (default: the context's, else stash)"},
      {"lease-name", 0, true, "name of the leader election Lease (default stash-operator)"},
      {"identity", 0, true, "this replica's name in the Lease (default: POD_NAME or host name, and pid)"},
      {"no-leader-elect", 0, false, "act without leader election (one replica only)"},
      {"webhook-port", 0, true, "HTTPS port of the admission webhook and /metrics (default 8443)"},
      {"webhook-bind-address", 0, true, "address the webhook listens on (default 0.0.0.0)"},
      {"webhook-url", 0, true,
       "register the webhook at this https base URL (an operator outside the cluster) instead of its Service"},
      {"webhook-service", 0, true, "Service in front of the webhook, NAMESPACE/NAME:PORT (default stash/stash-operator:443)"},
      {"serving-cert-secret", 0, true, "Secret holding the webhook's serving certificate (default stash/stash-operator-cert)"},
      {"no-register-webhook", 0, false, "serve the webhooks but leave their configurations alone"},
      {"no-webhook", 0, false, "serve no webhook and no /metrics (the controller alone adds sidecars)"},
  };
}

}  // namespace

Command OperatorCommand() {
  return {"operator", "Reconcile the Stash kinds (Restic sidecars, Recoveries; v1beta1 BackupConfigurations, BackupSessions, RestoreSessions) in a cluster", OperatorFlags(),
          RunOperator, "[flags]", /*uses_repository=*/false};
}

}  // namespace stash::cli
