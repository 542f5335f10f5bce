// `stash restore-session`: the init container `stash-init` a RestoreSession
// puts into a workload's pods (v1beta1). Before the application starts it
// restores this pod's host, V1beta1Hostname(kind, POD_NAME, NODE_NAME),
// following the session's rule for that host (RestoreSessionSpec::RuleFor):
//
//   - the rule's snapshots: each restored whole (every path it holds);
//     "latest" is the newest snapshot of the source host;
//   - else the rule's paths, each from the newest snapshot of the source
//     host (the rule's sourceHost, default this host) that holds it;
//   - else every path the source host has snapshots of, each from its
//     newest snapshot.
//
// Files come back to the paths they were backed up from, which the pod
// mounts from the target's volumes. The host's outcome is appended to the
// session's status.stats (Succeeded or Failed with the error naming the
// missing snapshot, host or path), with Events on the session.
//
// A host that already has an entry in the session restores nothing again:
// a restarted pod never overwrites data written since, and a failed
// restore is not retried in a loop (create a new RestoreSession).
#pragma once

#include <chrono>
#include <string>

#include "base/result.h"
#include "engine/snapshot_select.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "stashapi/v1beta1_spec.h"

namespace stash::agent {

struct RestoreSessionOptions {
  std::string ns, name;
  std::string target_kind, target_name;
  std::string pod_name, node_name;
  std::string pushgateway_url;
  // How long to wait for the operator to set the session Running before
  // restoring anyway.
  std::chrono::seconds wait_running{60};
};

struct RestoreOutcome {
  bool skipped = false;  // the host had reported already
  HostStats stats;
};

// kInvalid / kNotFound for options or a session that cannot be read at
// all; everything after that is the outcome's phase and error.
Result<RestoreOutcome> RunRestoreSession(kube::Client& client, const RestoreSessionOptions& options,
                                         const kube::LogFn& log);

// The restore itself, for a host and a rule, into the repository's
// snapshots (also what restore-pg picks its snapshot with): the snapshot
// ids and paths to restore. kNotFound naming the snapshot, host or path.
struct RestorePlanItem {
  SnapshotEntry entry;
  std::string path;
};
Result<std::vector<RestorePlanItem>> PlanRestore(const std::vector<SnapshotEntry>& snapshots, const RestoreRule& rule,
                                                 const std::string& host, const std::string& repository_name);

}  // namespace stash::agent
