// Which Restic owns a workload, and what that means for its pod template:
// the one decision the Restic controller and the admission webhook share,
// as pure functions so both reach the same answer.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "base/result.h"
#include "kube/object.h"
#include "operator/sidecar.h"

namespace stash::op {

// The Restics among `restics` (those of the workload's namespace) whose
// spec.selector matches the workload's labels; Restics being deleted are
// left out. A Restic with a selector that does not parse is skipped and
// reported through `on_invalid` with the reason.
std::vector<kube::ObjectPtr> SelectingRestics(
    const std::vector<kube::ObjectPtr>& restics, const kube::Json& workload,
    const std::function<void(const kube::ObjectPtr&, const Error&)>& on_invalid = nullptr);

// Makes `workload` what `selecting` asks for: exactly one Restic injects
// its sidecar; none, or more than one (0.8.3 refused to choose), removes a
// sidecar that we added earlier (it carries kLastAppliedAnnotation) and
// leaves other workloads alone. True when the workload changed. kInvalid
// when the one Restic's sidecar cannot be added (no pod template).
Result<bool> ApplyRestics(rapidjson::Document& workload, const std::string& kind,
                          const std::vector<kube::ObjectPtr>& selecting, const SidecarOptions& options);

// Everything in a workload's namespace that may want something in its pod
// template: Restics (v1alpha1), BackupConfigurations and RestoreSessions
// (v1beta1), and the Repositories the latter two name.
struct StashListers {
  std::function<std::vector<kube::ObjectPtr>(const std::string& ns)> restics;
  std::function<std::vector<kube::ObjectPtr>(const std::string& ns)> backup_configurations;
  std::function<std::vector<kube::ObjectPtr>(const std::string& ns)> restore_sessions;
  std::function<kube::ObjectPtr(const std::string& ns, const std::string& name)> repository;
};

// Who claims a workload.
struct WorkloadClaims {
  std::vector<kube::ObjectPtr> restics;                // selecting it
  std::vector<kube::ObjectPtr> backup_configurations;  // targeting it (driver Restic)
  std::vector<kube::ObjectPtr> restore_sessions;       // targeting it (driver Restic)
};

// The claims on `workload` of `kind` from `listers` (a lister left empty
// claims nothing). Restics with a bad selector go to `on_invalid`.
WorkloadClaims ClaimsOn(const StashListers& listers, const kube::Json& workload, const std::string& kind,
                        const std::function<void(const kube::ObjectPtr&, const Error&)>& on_invalid = nullptr);

// Makes `workload` what its claims ask for: one backup claim (a Restic or
// a BackupConfiguration) gets its sidecar, none or several (a conflict: the
// `warnings` say which) none; one RestoreSession gets its init container,
// several none. Only what we added is ever taken out. True when the
// workload changed. kInvalid naming the object when its sidecar cannot be
// added (no pod template, a volume missing, its Repository missing).
Result<bool> ApplyClaims(rapidjson::Document& workload, const std::string& kind, const WorkloadClaims& claims,
                         const StashListers& listers, const SidecarOptions& options,
                         std::vector<std::string>* warnings);

// A ReplicaSet a Deployment controls: it gets the sidecar through the
// Deployment's template, never on its own.
bool ControlledByDeployment(const kube::Json& workload);

// Whether a change to the pod template of `kind` reaches running pods only
// when they are deleted (ReplicaSet, ReplicationController): these do not
// roll out template changes themselves.
bool NeedsPodRestart(const std::string& kind);

// "a, b": the names of `restics`, for messages.
std::string ResticNames(const std::vector<kube::ObjectPtr>& restics);

}  // namespace stash::op
