// What a v1beta1 BackupConfiguration and RestoreSession add to the pod
// template of the workload they target (Deployment, StatefulSet, DaemonSet,
// ReplicaSet, ReplicationController):
// - a BackupConfiguration (driver Restic): the sidecar container `stash`
//   running `stash run-backup --backupconfiguration=BC --target-kind=K
//   --target-name=N` [--pushgateway-url=U], annotations
//   stash.appscode.com/last-applied-backupconfiguration (+ -hash);
// - a RestoreSession: the init container `stash-init`, first of the init
//   containers, running `stash restore-session --restoresession=RS
//   --target-kind=K --target-name=N`, annotations
//   stash.appscode.com/last-applied-restoresession (+ -hash).
// Both get env NODE_NAME, POD_NAME, NAMESPACE from the downward API, the
// target's volumeMounts (read-only for the backup), tmp-dir (emptyDir) at
// /tmp, stash-podinfo (the pod's labels) at /etc/stash, and for a local
// backend the Repository's volume as stash-local at its mountPath.
//
// Pure functions; running one twice changes nothing the second time.
#pragma once

#include <string>

#include <rapidjson/document.h>

#include "base/result.h"
#include "kube/object.h"
#include "operator/sidecar.h"

namespace stash::op {

inline constexpr char kRestoreInitName[] = "stash-init";
inline constexpr char kLastAppliedBackupConfiguration[] = "stash.appscode.com/last-applied-backupconfiguration";
inline constexpr char kLastAppliedBackupConfigurationHash[] =
    "stash.appscode.com/last-applied-backupconfiguration-hash";
inline constexpr char kLastAppliedRestoreSession[] = "stash.appscode.com/last-applied-restoresession";
inline constexpr char kLastAppliedRestoreSessionHash[] = "stash.appscode.com/last-applied-restoresession-hash";

// Adds the backup sidecar of `bc` (with its Repository `repository`, for a
// local backend's volume) or brings it up to date. True when the workload
// changed. kInvalid when the workload has no pod template or lacks a
// volume the target mounts.
Result<bool> InjectBackupSidecar(rapidjson::Document& workload, const std::string& kind, const kube::Json& bc,
                                 const kube::Json& repository, const SidecarOptions& options);

// The same for the restore init container of `restore`.
Result<bool> InjectRestoreInit(rapidjson::Document& workload, const std::string& kind, const kube::Json& restore,
                               const kube::Json& repository, const SidecarOptions& options);

// Takes out what the two added (each only when its annotation is there).
// True when the workload changed.
bool RemoveV1beta1(rapidjson::Document& workload);
bool RemoveBackupSidecar(rapidjson::Document& workload);
bool RemoveRestoreInit(rapidjson::Document& workload);

// The name in the workload's last-applied-backupconfiguration /
// -restoresession annotation ("" when none).
std::string AppliedBackupConfiguration(const kube::Json& workload);
std::string AppliedRestoreSession(const kube::Json& workload);

// Whether `object` (a BackupConfiguration or RestoreSession) targets the
// workload `kind`/`name` with the Restic driver and is not being deleted.
bool TargetsWorkload(const kube::Json& object, const std::string& kind, const std::string& name);

}  // namespace stash::op
