// What the injected sidecar may do with the API: the pod's service account
// is bound, in the workload's namespace, to the ClusterRole `stash-sidecar`
// (manifests/05-operator.yaml) by a RoleBinding
// `stash-sidecar-<kind>-<name>` that the workload owns, as Stash 0.8.3 did
// with RBAC enabled. The sidecar reads its Restic, the storage Secret and
// its own pod, keeps the Repository object and its status, records Events,
// elects a leader through a Lease and creates the check Job.
#pragma once

#include <string>

#include "base/result.h"
#include "kube/client.h"
#include "kube/object.h"

namespace stash::op {

inline constexpr char kSidecarClusterRole[] = "stash-sidecar";

// "stash-sidecar-deployment-web".
std::string SidecarRoleBindingName(const std::string& kind, const std::string& name);

// The RoleBinding for `workload` of `kind`: its pod template's service
// account ("default" when unset) to kSidecarClusterRole, owned by the
// workload so that it goes when the workload goes.
std::string SidecarRoleBindingJson(const std::string& kind, const kube::Json& workload,
                                   const std::string& cluster_role = kSidecarClusterRole);

// Creates or updates it (server-side apply). With `cluster_role`
// stash-v1beta1-agent (a v1beta1 sidecar or init container) the binding is
// `stash-v1beta1-<kind>-<name>` to that ClusterRole.
Status EnsureSidecarRoleBinding(kube::Client& client, const std::string& kind, const kube::Json& workload,
                                const std::string& cluster_role = kSidecarClusterRole);

}  // namespace stash::op
