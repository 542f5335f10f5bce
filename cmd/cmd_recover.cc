// stash recover --recovery-name=NAME [--namespace=NS] [--kubeconfig=F]: what
// a Recovery's Job runs (agent/recovery.h). The cluster is --kubeconfig,
// else $KUBECONFIG, else the pod's service account; the namespace is
// --namespace, else the service account's, else the kubeconfig context's.
//
// Exit codes: 0 restored, 1 failed in a way another attempt may fix (the
// cluster or the storage could not be reached), 2 failed for good (bad
// input, a missing object or snapshot, a wrong password): the Job's pod
// failure policy fails the Job at once on 2. The last line on stderr is
// `Fatal: <why>`, which the operator shows in the Recovery's status.
#include <iostream>

#include "agent/recovery.h"
#include "base/log.h"
#include "cmd/commands.h"
#include "kube/config.h"

namespace stash::cli {
namespace {

constexpr int kExitPermanent = 2;

void Log(const std::string& line) { LogLine(line); }

int Failed(const Error& error) {
  Fatal(error);
  return agent::RetryCanHelp(error) ? kExitError : kExitPermanent;
}

int RunRecover(const Args& args, const Globals&) {
  if (!args.positional().empty()) {
    return Failed(Invalid("recover takes no arguments (the Recovery names what to restore)"));
  }
  const std::string name = args.Get("recovery-name");
  if (name.empty()) return Failed(Invalid("recover needs --recovery-name (the Recovery to carry out)"));
  auto access = kube::ResolveAccess(args.Get("kubeconfig"));
  if (!access.ok()) return Failed(access.error());
  auto client = kube::Client::Create(*access);
  if (!client.ok()) return Failed(client.error().Wrap("cluster " + access->server));
  const std::string ns = args.Get("namespace", (*client)->default_namespace());
  Log("recovering Recovery " + ns + "/" + name);
  Status done = agent::RunRecovery(**client, ns, name, Log);
  if (!done.ok()) return Failed(done.error().Wrap("Recovery " + ns + "/" + name));
  Log("Recovery " + ns + "/" + name + " succeeded");
  return kExitOk;
}

std::vector<FlagSpec> RecoverFlags() {
  return {
      {"recovery-name", 0, true, "the Recovery to carry out", "name"},
      {"namespace", 0, true, "namespace of the Recovery (default: the pod's, then the context's)", "ns"},
      {"kubeconfig", 0, true, "cluster to use (default: $KUBECONFIG, then the pod's service account)", "file"},
  };
}

}  // namespace

Command RecoverCommand() {
  return {"recover", "Restore the paths of a Recovery into its volumes (what a Recovery's Job runs)", RecoverFlags(),
          RunRecover, "[flags]", /*uses_repository=*/false};
}

}  // namespace stash::cli
