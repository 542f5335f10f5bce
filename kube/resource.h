// Where a kind of object lives in the API: group, version, plural resource
// name and scope, and the REST paths built from them.
#pragma once

#include <string>
#include <vector>

namespace stash::kube {

struct Resource {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string plural;    // "pods"
  std::string kind;      // "Pod"
  bool namespaced = true;

  // "v1" or "apps/v1": the apiVersion of its objects.
  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
  // /api/v1[/namespaces/NS]/PLURAL[/NAME[/SUB]]; `ns` "" means all
  // namespaces (or a cluster-scoped resource).
  std::string Path(const std::string& ns, const std::string& name = "",
                   const std::string& subresource = "") const {
    std::string p = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
    if (namespaced && !ns.empty()) p += "/namespaces/" + ns;
    p += "/" + plural;
    if (!name.empty()) p += "/" + name;
    if (!subresource.empty()) p += "/" + subresource;
    return p;
  }
};

// Kinds of Kubernetes itself that stash reads or writes.
namespace resources {
inline const Resource kNamespaces{"", "v1", "namespaces", "Namespace", false};
inline const Resource kSecrets{"", "v1", "secrets", "Secret", true};
inline const Resource kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};
inline const Resource kEvents{"", "v1", "events", "Event", true};
inline const Resource kPods{"", "v1", "pods", "Pod", true};
inline const Resource kNodes{"", "v1", "nodes", "Node", false};
inline const Resource kServices{"", "v1", "services", "Service", true};
inline const Resource kLeases{"coordination.k8s.io", "v1", "leases", "Lease", true};
inline const Resource kAPIServices{"apiregistration.k8s.io", "v1", "apiservices", "APIService", false};
inline const Resource kRoleBindings{"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true};
inline const Resource kServiceAccounts{"", "v1", "serviceaccounts", "ServiceAccount", true};
inline const Resource kJobs{"batch", "v1", "jobs", "Job", true};
inline const Resource kCronJobs{"batch", "v1", "cronjobs", "CronJob", true};
inline const Resource kDeployments{"apps", "v1", "deployments", "Deployment", true};
inline const Resource kStatefulSets{"apps", "v1", "statefulsets", "StatefulSet", true};
inline const Resource kDaemonSets{"apps", "v1", "daemonsets", "DaemonSet", true};
inline const Resource kReplicaSets{"apps", "v1", "replicasets", "ReplicaSet", true};
inline const Resource kReplicationControllers{"", "v1", "replicationcontrollers", "ReplicationController", true};

// The workload kinds Stash backs up (each with its pod template at
// /spec/template), in the order Stash lists them.
inline const std::vector<Resource>& WorkloadResources() {
  static const std::vector<Resource> kinds = {kDeployments, kStatefulSets, kDaemonSets, kReplicaSets,
                                              kReplicationControllers};
  return kinds;
}
}  // namespace resources

}  // namespace stash::kube
