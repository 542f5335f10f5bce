// stash operator: the reconcilers of the Stash kinds. Today: Restic
// sidecars in the workloads a Restic selects. With leader election (a
// Lease), so replicas can run side by side and one acts at a time.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "base/log.h"
#include "cmd/commands.h"
#include "kube/config.h"
#include "kube/leader_election.h"
#include "operator/restic_controller.h"

namespace stash::cli {
namespace {

void Log(const std::string& line) { LogLine(line); }

std::string DefaultIdentity() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  const char* pod = std::getenv("POD_NAME");
  return (pod && *pod ? std::string(pod) : std::string(host)) + "_" + std::to_string(getpid());
}

// Runs the controllers while this replica leads.
void Lead(kube::Client& client, const op::SidecarOptions& sidecar, const std::atomic<bool>& lost) {
  kube::EventRecorder events(&client, "stash-operator", DefaultIdentity(), Log);
  op::ResticController restics(&client, &events, sidecar, Log);
  Status started = restics.Start(std::chrono::seconds(60));
  if (!started.ok()) {
    Log("cannot start the Restic controller: " + started.error().message());
    return;  // the elector tries again
  }
  Log("Restic controller running");
  while (!lost) std::this_thread::sleep_for(std::chrono::milliseconds(200));
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

  std::atomic<bool> stop{false};
  std::thread worker([&] {
    if (args.Has("no-leader-elect")) {
      Lead(**client, sidecar, stop);
      return;
    }
    kube::LeaderElector elector(client->get(), election, Log);
    elector.Run([&](const std::atomic<bool>& lost) { Lead(**client, sidecar, lost); }, stop);
  });
  Log("stash operator started (" + election.identity + ")");
  int sig = 0;
  sigwait(&signals, &sig);
  Log(std::string("Received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ", shutting down");
  stop = true;
  worker.join();
  return 0;
}

std::vector<FlagSpec> OperatorFlags() {
  return {
      {"kubeconfig", 0, true, "cluster to reconcile (default: $KUBECONFIG, then the pod's service account)"},
      {"image", 0, true, "image of the injected stash sidecar (default stash:0.1.0)"},
      {"pushgateway-url", 0, true, "Prometheus Pushgateway the sidecars push their metrics to"},
      {"lease-namespace", 0, true, "namespace of the leader election Lease (default: the context's, else stash)"},
      {"lease-name", 0, true, "name of the leader election Lease (default stash-operator)"},
      {"identity", 0, true, "this replica's name in the Lease (default: POD_NAME or host name, and pid)"},
      {"no-leader-elect", 0, false, "act without leader election (one replica only)"},
  };
}

}  // namespace

Command OperatorCommand() {
  return {"operator", "Reconcile the Stash kinds (Restic sidecars) in a cluster", OperatorFlags(), RunOperator,
          "[flags]", /*uses_repository=*/false};
}

}  // namespace stash::cli
