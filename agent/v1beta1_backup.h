// `stash run-backup`: the sidecar a BackupConfiguration puts into a
// workload's pods (v1beta1). It watches the BackupSessions of its
// namespace; for each one of its BackupConfiguration that the operator has
// set Running and that has no entry for this pod's host yet, it backs up
// the target's paths as that host into the Repository (created in storage
// when missing), one snapshot per path, applies the retention policy to
// this host's snapshots (forget, prune when asked), and reports: the
// host's stats appended to the session, the Repository's status, Events on
// the session, metrics to the Pushgateway when one is given.
//
// The host is V1beta1Hostname(kind, POD_NAME, NODE_NAME). The replicas of a
// Deployment, ReplicaSet or ReplicationController all are host-0, so only
// the holder of the Lease lock-<kind>-<name>-backup backs up; every
// StatefulSet and DaemonSet pod backs up its own host. A session is tried
// once per pod: a failure is reported as the host's Failed entry, never
// retried in a loop.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "base/result.h"
#include "kube/client.h"
#include "kube/events.h"
#include "kube/object.h"
#include "stashapi/v1beta1_spec.h"

namespace stash::agent {

struct RunBackupOptions {
  std::string ns, bc_name;
  std::string target_kind, target_name;  // as given; the kind is made canonical
  std::string pod_name, node_name;       // POD_NAME, NODE_NAME
  std::string pushgateway_url;
  std::chrono::seconds lease_duration{15}, renew_deadline{10}, retry_period{2};
};

// The Lease the replicas of a Deployment-like workload elect their leader with.
std::string BackupLeaseName(const std::string& kind, const std::string& name);

// Whether this pod owes `session` a backup: of our BackupConfiguration,
// phase Running, no stats entry for `host`.
bool SessionWantsHost(const kube::Json& session, const std::string& bc_name, const std::string& host);

// Backs up `host` for `session` and returns its stats (phase Failed with
// the error when anything failed). Records the Repository's status on
// success and pushes metrics; the caller appends the stats.
HostStats BackupHostForSession(kube::Client& client, kube::EventRecorder& events, const RunBackupOptions& options,
                               const std::string& host, const kube::Json& session, const kube::LogFn& log);

// Runs until `stop`; 0, or 1 with the error logged when the options are bad.
int RunBackupSidecar(kube::Client& client, const RunBackupOptions& options, const std::atomic<bool>& stop,
                     const kube::LogFn& log);

}  // namespace stash::agent
