// The Restic reconciler: keeps the stash sidecar in exactly the workloads
// that one Restic selects, as Stash 0.8.3's operator did for workloads that
// already exist (new ones are mutated on admission by the webhook).
//
// Level-triggered: informers on Restics and on every workload kind feed a
// work queue of workload keys ("Kind/namespace/name"); a Restic's change
// enqueues every workload of its namespace. Reconcile reads the world from
// the informers' stores and makes the workload match it:
// - one Restic selects it: the sidecar of that Restic (sidecar.h);
// - none: no sidecar;
// - more than one: no sidecar, and a Warning Event on the workload, as
//   0.8.3 refused such workloads.
// Failures are retried with the queue's per-key backoff.
//
// The v1beta1 generation claims workloads too: a BackupConfiguration whose
// target is the workload adds its sidecar (a conflict with a Restic or a
// second BackupConfiguration: none, and a Warning Event), a RestoreSession
// its init container (restic_match.h, ApplyClaims).
//
// Each Restic also has a key of its own ("Restic/namespace/name", enqueued
// by its changes and by those of its scale-down CronJob, watched by the
// labels operation=scale-down): its reconcile keeps that CronJob as the
// Restic's type asks (scaledown_reconcile.h).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "kube/client.h"
#include "kube/events.h"
#include "kube/informer.h"
#include "kube/work_queue.h"
#include "operator/scaledown_reconcile.h"
#include "operator/restic_match.h"
#include "operator/sidecar.h"

namespace stash::op {

class ResticController {
 public:
  ResticController(kube::Client* client, kube::EventRecorder* events, SidecarOptions options, kube::LogFn log);
  ~ResticController();

  // Starts the informers and waits for their first lists; then the worker.
  Status Start(std::chrono::milliseconds sync_timeout);
  void Stop();

  // Makes the workload named by `key` ("Kind/namespace/name") match the
  // Restics that select it, or the scale-down CronJob of the Restic named
  // by "Restic/namespace/name" match that Restic.
  Status Reconcile(const std::string& key);

 private:
  struct Kind {
    kube::Resource resource;
    std::unique_ptr<kube::Informer> informer;
  };
  void EnqueueWorkload(const std::string& kind, const kube::ObjectPtr& workload);
  void EnqueueNamespace(const std::string& ns);
  void EnqueueRestic(const std::string& ns, const std::string& name);
  Status ReconcileRestic(const std::string& ns_name);
  // Whether some workload of the Restic's namespace has labels its
  // selector matches (from the informers' stores).
  bool SelectsAnyWorkload(const kube::Json& restic) const;
  std::vector<kube::ObjectPtr> SelectingRestics(const kube::Json& workload);
  const Kind* KindNamed(const std::string& name) const;
  void Work();
  Status RestartPods(const kube::Json& workload);

  kube::Client* client_;
  kube::EventRecorder* events_;
  SidecarOptions options_;
  kube::LogFn log_;
  void EnqueueTarget(const kube::ObjectPtr& object);  // a BackupConfiguration's or RestoreSession's workload
  StashListers Listers() const;
  kube::Informer restics_;
  kube::Informer backup_configurations_;  // v1beta1: their sidecars
  kube::Informer restore_sessions_;       // v1beta1: their init containers
  kube::Informer repositories_;
  kube::Informer cronjobs_;  // scale-down CronJobs of offline Restics
  std::vector<Kind> kinds_;
  kube::WorkQueue queue_;
  std::thread worker_;
};

}  // namespace stash::op
