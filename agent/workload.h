// Who a sidecar backs up for: the workload kind and name it was injected
// into, and the pod and node it runs on. Everything that Stash 0.8.3 named
// after the workload follows from these (docs/stash-objects.md, section 5):
//
//   kind                          host (restic --host)   smart prefix                 Repository object
//   Deployment, ReplicaSet,       workload name          <kind>/<workload>            <kind>.<workload>
//   ReplicationController
//   StatefulSet                   pod name               statefulset/<pod>            statefulset.<pod>
//   DaemonSet                     node name              daemonset/<workload>/<node>  daemonset.<workload>.<node>
//
// (<kind> in lower case.) The replicas of a Deployment, ReplicaSet or
// ReplicationController share one host and one repository, so only the
// leader among them backs up; StatefulSet and DaemonSet pods each have their
// own.
#pragma once

#include <map>
#include <string>

#include "base/result.h"

namespace stash::agent {

struct Workload {
  std::string kind;  // canonical: "Deployment", "ReplicaSet", "ReplicationController", "StatefulSet", "DaemonSet"
  std::string name;
  std::string pod_name;   // POD_NAME
  std::string node_name;  // NODE_NAME
};

// The canonical kind for a kind or its aliases as kubectl and 0.8.3 took
// them ("deployments", "deploy", "rs", "rc", "ds", "statefulsets", any case).
// kInvalid naming the kind otherwise.
Result<std::string> CanonicalKind(const std::string& kind);

// A workload with its kind made canonical; kInvalid when the name is empty,
// or POD_NAME (StatefulSet) or NODE_NAME (DaemonSet) is missing.
Result<Workload> MakeWorkload(const std::string& kind, const std::string& name, const std::string& pod_name,
                              const std::string& node_name);

// True for the kinds whose replicas share a repository and elect a leader.
bool SharesRepository(const Workload& w);

std::string SnapshotHost(const Workload& w);
std::string SmartPrefix(const Workload& w);
std::string RepositoryName(const Workload& w);
// restic=<restic>, workload-kind, workload-name, and pod-name (StatefulSet)
// or node-name (DaemonSet).
std::map<std::string, std::string> RepositoryLabels(const Workload& w, const std::string& restic);
// The leader election lock: lock-<kind>-<workload>, lower case.
std::string LeaderLockName(const Workload& w);

}  // namespace stash::agent
