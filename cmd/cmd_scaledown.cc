// stash scaledown --restic-name=R [--namespace=NS] [--kubeconfig=F]
// [--wait-timeout=10m]: what the scale-down CronJob of an offline Restic
// runs (agent/scaledown.h). The cluster is --kubeconfig, else $KUBECONFIG,
// else the pod's service account; the namespace is --namespace, else the
// service account's, else the kubeconfig context's.
//
// Exit 0 when every workload of the Restic was restarted (or the Restic is
// paused, or none carries its init container); 1 with one `Fatal:` line
// naming the Restic or each workload that failed.
#include <cstdlib>

#include "stashapi/go_duration.h"
#include "agent/scaledown.h"
#include "base/log.h"
#include "cmd/commands.h"
#include "kube/config.h"

namespace stash::cli {
namespace {

void Log(const std::string& line) { LogLine(line); }

std::string PodName() {
  const char* v = std::getenv("HOSTNAME");
  return v ? v : "";
}

Result<std::chrono::seconds> WaitTimeout(const Args& args) {
  const std::string text = args.Get("wait-timeout", "10m");
  auto ns = ParseGoDuration(text);
  if (!ns.ok()) return ns.error().Wrap("--wait-timeout");
  if (*ns < 1000000000) return Invalid("--wait-timeout " + text + " is under a second");
  return std::chrono::seconds(*ns / 1000000000);
}

int RunScaledown(const Args& args, const Globals&) {
  if (!args.positional().empty()) return Fatal("scaledown takes no arguments (the Restic names what to restart)");
  agent::ScaledownOptions options;
  options.restic_name = args.Get("restic-name");
  if (options.restic_name.empty()) return Fatal("scaledown needs --restic-name (the offline Restic to back up)");
  auto timeout = WaitTimeout(args);
  if (!timeout.ok()) return Fatal(timeout.error());
  options.wait_timeout = *timeout;
  auto access = kube::ResolveAccess(args.Get("kubeconfig"));
  if (!access.ok()) return Fatal(access.error());
  auto client = kube::Client::Create(*access);
  if (!client.ok()) return Fatal(client.error().Wrap("cluster " + access->server));
  options.ns = args.Get("namespace", (*client)->default_namespace());
  kube::EventRecorder events(client->get(), "stash-scaledown", PodName(), Log);
  Log("restarting the workloads of offline Restic " + options.ns + "/" + options.restic_name);
  Status done = agent::RunScaledown(**client, events, options, Log);
  if (!done.ok()) return Fatal(done.error());
  return kExitOk;
}

std::vector<FlagSpec> ScaledownFlags() {
  return {
      {"restic-name", 0, true, "the offline Restic whose workloads to restart", "name"},
      {"namespace", 0, true, "namespace of the Restic (default: the pod's, then the context's)", "ns"},
      {"kubeconfig", 0, true, "cluster to use (default: $KUBECONFIG, then the pod's service account)", "file"},
      {"wait-timeout", 0, true, "bound of each wait for pods to go or become ready (default 10m)", "duration"},
  };
}

}  // namespace

Command ScaledownCommand() {
  return {"scaledown", "Restart the workloads of an offline Restic so they back up (its CronJob's command)",
          ScaledownFlags(), RunScaledown, "[flags]", /*uses_repository=*/false};
}

}  // namespace stash::cli
