// `stash scaledown --restic-name=R`: what the scale-down CronJob of an
// offline Restic runs. The workloads that carry R's init container (their
// annotation restic.appscode.com/last-applied-configuration names R) are
// restarted, so that the init container backs up as each pod starts:
//
//   StatefulSet, DaemonSet   every pod is deleted; the workload makes them
//                            again. Done when none of the old pods is left
//                            and as many pods are ready as the workload
//                            wants. Event `Restarted`.
//   Deployment, ReplicaSet,  scaled to 0 (the count kept in the annotation
//   ReplicationController    `old-replica`, as Stash 0.8.3 kept it), and
//                            once its pods are gone to 1, whose init
//                            container backs up; once that replica is ready
//                            the count is restored and the annotation
//                            removed. Events `ScaledDown` and `ScaledUp`.
//                            The replicas of these kinds share one
//                            repository, so one backup covers them.
//
// Unlike 0.8.3, where the init container of that single replica scaled the
// workload back up, this command restores the count itself: the init
// container stays a plain backup. The annotation is written before the
// scale-down and removed with the restore, so a run that is interrupted
// loses nothing: the next run takes the count from the annotation.
//
// Every wait is bounded (`wait_timeout`); when the single replica does not
// become ready in time (its backup failed or hangs), the count is restored
// anyway and the workload named in the error. A paused Restic restarts
// nothing (its init containers would skip the backup).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "base/result.h"
#include "kube/client.h"
#include "kube/events.h"
#include "kube/informer.h"

namespace stash::agent {

inline constexpr char kOldReplicaAnnotation[] = "old-replica";

struct ScaledownOptions {
  std::string ns, restic_name;
  std::chrono::seconds wait_timeout{600};     // for each wait
  std::chrono::milliseconds poll_interval{1000};
};

// Runs the restart of every workload of the Restic, one after another. A
// failure with one workload does not stop the others; the error names
// each workload that failed. kNotFound when the Restic does not exist,
// kInvalid when it is not offline.
Status RunScaledown(kube::Client& client, kube::EventRecorder& events, const ScaledownOptions& options,
                    const kube::LogFn& log);

// --- the pure parts, for tests ---

// Whether `workload` carries the sidecar of Restic `restic` (the Restic
// recorded in its last-applied annotation has that name).
bool CarriesSidecarOf(const kube::Json& workload, const std::string& restic);

// A ReplicaSet a Deployment controls: it carries the Deployment's
// annotations (the last-applied one too) but is restarted through it.
bool ControlledByDeployment(const kube::Json& workload);

// Whether the kind is restarted by scaling (Deployment, ReplicaSet,
// ReplicationController) rather than by deleting its pods.
bool RestartsByScaling(const std::string& kind);

// The count to restore: `old-replica` when set (an earlier run was
// interrupted), else spec.replicas (1 when unset). kInvalid naming the
// workload when the annotation is not a whole number >= 0.
Result<int64_t> OriginalReplicas(const kube::Json& workload);

// Sets spec.replicas; with `keep_original` >= 0 also records it in
// `old-replica`, with -1 removes that annotation. True when it changed.
bool SetReplicas(rapidjson::Document& workload, int64_t replicas, int64_t keep_original);

// Why a pod's init containers hold it back: "init container stash exited
// 1, restarted 3 time(s)" for the first that failed (now or the last time
// it ran); "" when none did.
std::string InitContainerTrouble(const kube::Json& pod);

// A pod that runs and is ready (condition Ready True), not being deleted.
bool PodReady(const kube::Json& pod);

// Whether the object's controller (ownerReferences with controller: true)
// has one of `uids`.
bool ControlledByAny(const kube::Json& object, const std::vector<std::string>& uids);

}  // namespace stash::agent
