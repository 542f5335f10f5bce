// The stash sidecar that a Restic puts into a workload's pods
// (`stash backup --restic-name=R --workload-kind=K --workload-name=N`):
// backup sessions on the Restic's schedule (schedule_loop.h), each as
// backup_session.h describes.
//
// The replicas of a Deployment, ReplicaSet or ReplicationController share
// one repository, so they elect a leader and only it runs the schedule.
// Stash 0.8.3 used a ConfigMap lock named lock-<kind>-<workload>; we use a
// coordination.k8s.io Lease of that name (kube/leader_election.h), the
// identity being the pod's name. StatefulSet and DaemonSet pods each run
// their own schedule.
//
// Without --run-via-cron (the init container of an offline Restic) it runs
// one session and returns.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "agent/workload.h"
#include "kube/client.h"
#include "kube/informer.h"

namespace stash::agent {

struct SidecarOptions {
  std::string ns, restic_name;
  Workload workload;
  std::string pushgateway_url;
  std::string pod_labels_path = "/etc/stash/labels";
  // The check Job's image; "" for the image of this pod's `stash`
  // container, or stash:<version> when that cannot be read.
  std::string image;
  bool run_via_cron = true;
  std::chrono::seconds lease_duration{15}, renew_deadline{10}, retry_period{2};
};

// Runs until `stop` turns true, then returns 0. Without run_via_cron:
// one session, 0 when it succeeded (or was paused), 1 when it failed.
int RunSidecar(kube::Client& client, const SidecarOptions& options, const std::atomic<bool>& stop, kube::LogFn log);

}  // namespace stash::agent
