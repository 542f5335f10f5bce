// The Stash sidecar's two commands, reached through restic's command names
// as Stash 0.8.3 spelled them:
//
//   stash backup --restic-name=R --workload-kind=K --workload-name=N
//       [--run-via-cron] [--pushgateway-url=U] [--kubeconfig=F] [--namespace=NS]
//   stash check --restic-name=R --host-name=H --smart-prefix=P [--kubeconfig=F] [--namespace=NS]
//
// `backup` and `check` without --restic-name are restic's. The pod gives
// NODE_NAME and POD_NAME; the cluster is --kubeconfig, else $KUBECONFIG,
// else the pod's service account; the namespace is --namespace, else the
// service account's, else the kubeconfig context's.
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "agent/restic_check.h"
#include "agent/sidecar.h"
#include "base/log.h"
#include "cmd/commands.h"
#include "kube/config.h"

namespace stash::cli {
namespace {

void Log(const std::string& line) { LogLine(line); }

Result<std::unique_ptr<kube::Client>> Connect(const Args& args) {
  STASH_ASSIGN_OR_RETURN(auto access, kube::ResolveAccess(args.Get("kubeconfig")));
  auto client = kube::Client::Create(access);
  if (!client.ok()) return client.error().Wrap("cluster " + access.server);
  return client;
}

std::string NamespaceOf(const Args& args, const kube::Client& client) {
  return args.Get("namespace", client.default_namespace());
}

}  // namespace

int RunSidecarBackup(const Args& args) {
  if (!args.positional().empty()) return Fatal("the sidecar backs up the Restic's file groups and takes no paths");
  if (args.Get("restic-name").empty()) return Fatal("--restic-name is empty");
  auto workload = agent::MakeWorkload(args.Get("workload-kind"), args.Get("workload-name"), Env("POD_NAME"),
                                      Env("NODE_NAME"));
  if (!workload.ok()) return Fatal(workload.error());
  auto client = Connect(args);
  if (!client.ok()) return Fatal(client.error());
  agent::SidecarOptions options;
  options.ns = NamespaceOf(args, **client);
  options.restic_name = args.Get("restic-name");
  options.workload = *workload;
  options.pushgateway_url = args.Get("pushgateway-url");
  options.pod_labels_path = args.Get("pod-labels-path", options.pod_labels_path);
  options.image = args.Get("image");
  options.run_via_cron = args.Has("run-via-cron");
  static std::atomic<bool> stop{false};  // outlives the detached signal thread
  StopOnSignals(stop, "stopping after the current session");
  Log("stash sidecar for Restic " + options.ns + "/" + options.restic_name + " in " + workload->kind + " " +
      workload->name + (options.run_via_cron ? "" : " (one session)"));
  return agent::RunSidecar(**client, options, stop, Log);
}

int RunResticCheck(const Args& args) {
  if (!args.positional().empty()) return Fatal("check --restic-name takes no arguments");
  if (args.Get("restic-name").empty()) return Fatal("--restic-name is empty");
  agent::ResticCheckOptions options;
  options.restic_name = args.Get("restic-name");
  options.host = args.Get("host-name");
  options.smart_prefix = args.Get("smart-prefix");
  if (options.host.empty() || options.smart_prefix.empty()) {
    return Fatal("check --restic-name needs --host-name and --smart-prefix (the check Job's arguments)");
  }
  auto client = Connect(args);
  if (!client.ok()) return Fatal(client.error());
  options.ns = NamespaceOf(args, **client);
  kube::EventRecorder events(client->get(), "stash-backup", Env("POD_NAME"), Log);
  auto result = agent::CheckResticRepository(**client, events, options);
  if (!result.ok()) return Fatal(result.error());
  for (const auto& note : result->notes) std::cout << note << "\n";
  for (const auto& error : result->errors) std::cerr << error << "\n";
  if (!result->errors.empty()) return Fatal("repository " + result->location + " contains errors");
  std::cout << "no errors were found in " << result->location << "\n";
  return kExitOk;
}

std::vector<FlagSpec> SidecarBackupFlags() {
  return {
      {"restic-name", 0, true, "run as the Stash sidecar of this Restic (in the pod's namespace)", "name"},
      {"workload-kind", 0, true, "sidecar: kind of the workload it runs in (Deployment, StatefulSet, ...)", "kind"},
      {"workload-name", 0, true, "sidecar: name of that workload", "name"},
      {"run-via-cron", 0, false, "sidecar: back up on the Restic's schedule (else one session and exit)"},
      {"pushgateway-url", 0, true, "sidecar: Prometheus Pushgateway to push session metrics to", "url"},
      {"kubeconfig", 0, true, "sidecar: cluster to use (default: $KUBECONFIG, then the pod's service account)", "file"},
      {"namespace", 0, true, "sidecar: namespace of the Restic (default: the pod's, then the context's)", "ns"},
      {"pod-labels-path", 0, true, "sidecar: the pod's labels, as the downward API writes them (/etc/stash/labels)", "file"},
      {"image", 0, true, "sidecar: image of the check Job (default: this pod's stash container image)", "image"},
      {"docker-registry", 0, true, "accepted for Stash 0.8.3 compatibility", "string"},
      {"image-tag", 0, true, "accepted for Stash 0.8.3 compatibility", "string"},
      {"enable-status-subresource", 0, false, "accepted for Stash 0.8.3 compatibility"},
      {"enable-rbac", 0, false, "accepted for Stash 0.8.3 compatibility"},
      {"enable-analytics", 0, false, "accepted for Stash 0.8.3 compatibility"},
      {"scratch-dir", 0, true, "accepted for Stash 0.8.3 compatibility", "dir"},
  };
}

std::vector<FlagSpec> ResticCheckFlags() {
  return {
      {"restic-name", 0, true, "check the repository of this Restic's host (the check Job)", "name"},
      {"host-name", 0, true, "with --restic-name: the host whose repository to check", "host"},
      {"smart-prefix", 0, true, "with --restic-name: that host's prefix in the backend", "prefix"},
      {"kubeconfig", 0, true, "with --restic-name: cluster to use", "file"},
      {"namespace", 0, true, "with --restic-name: namespace of the Restic", "ns"},
      {"enable-status-subresource", 0, false, "accepted for Stash 0.8.3 compatibility"},
      {"enable-analytics", 0, false, "accepted for Stash 0.8.3 compatibility"},
  };
}

}  // namespace stash::cli
