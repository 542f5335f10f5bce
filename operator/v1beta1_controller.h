// The reconcilers of the v1beta1 generation of Stash (docs/stash-objects.md,
// "v1beta1"), level-triggered on informers and one work queue, as the
// Restic and Recovery controllers are:
// - a BackupConfiguration ("BC/ns/name"): the finalizer
//   stash.appscode.com, the service account stash-v1beta1 and its binding
//   in the namespace, and the CronJob that creates its BackupSessions (a
//   schedule a CronJob cannot take: a Warning Event InvalidSchedule and no
//   CronJob). Deleted: once the workload has lost the sidecar (the Restic
//   controller takes it out), the finalizer goes and the garbage collector
//   takes the CronJob. The sidecar itself is the Restic controller's
//   (restic_match.h), which sees the same objects.
// - a BackupSession ("BS/ns/name"): the phase machine. New: Skipped when
//   the BackupConfiguration is paused; Failed (a condition and a Warning
//   Event naming the reason) when the BackupConfiguration, its Repository,
//   its target, its Task or a Function is missing or a variable has no
//   value; else Running with totalHosts, and for the job model the Job
//   stash-backup-<session> from the Task. Running: Succeeded or Failed
//   once every host reported, with sessionDuration; a Job that failed
//   before host-0 reported writes host-0 Failed with the reason.
//   Succeeded, Failed and Skipped sessions are never touched again.
// - a workload ("WL/Kind/ns/name") annotated with a
//   BackupConfigurationTemplate's name: the Repository and the
//   BackupConfiguration "<kind>-<name>" made from the template (created or
//   updated; a missing template or a malformed annotation: a Warning Event
//   on the workload); the annotation gone: the BackupConfiguration is
//   deleted, the Repository kept.
// - a RestoreSession ("RS/ns/name"): the same phase machine, the Job
//   stash-restore-<name> for the job model (a workload gets its init
//   container from the Restic controller).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/metrics.h"
#include "kube/client.h"
#include "kube/events.h"
#include "kube/informer.h"
#include "kube/work_queue.h"
#include "operator/sidecar.h"

namespace stash::op {

struct V1beta1Options {
  std::string image = "stash:0.1.0";  // the CronJob's container
  std::string pushgateway_url;        // PROMETHEUS_PUSHGATEWAY_URL of the Jobs
  // When set: stash_operator_session_phases_total{kind,phase} counts the
  // phases the operator gave sessions (DeclareMetrics declares it).
  Metrics* metrics = nullptr;
};

class V1beta1Controller {
 public:
  V1beta1Controller(kube::Client* client, kube::EventRecorder* events, V1beta1Options options, kube::LogFn log);
  ~V1beta1Controller();

  Status Start(std::chrono::milliseconds sync_timeout);
  void Stop();

  Status Reconcile(const std::string& key);

  static void DeclareMetrics(Metrics& metrics);

 private:
  Status ReconcileBackupConfiguration(const std::string& ns, const std::string& name);
  Status ReconcileBackupSession(const std::string& ns, const std::string& name);
  Status ReconcileRestoreSession(const std::string& ns, const std::string& name);
  Status ReconcileAutoBackup(const std::string& kind, const std::string& ns, const std::string& name);
  // Shared by both sessions: `backup` tells which.
  Status StartSession(const kube::Json& session, bool backup);
  Status AdvanceSession(const kube::Json& session, bool backup);
  Status FailSession(const kube::Json& session, bool backup, const std::string& reason, const std::string& message);
  Status SetPhase(const kube::Json& session, bool backup, const std::string& phase, std::optional<int> total_hosts,
                  const std::string& reason, const std::string& message, const std::string& duration = "");
  Status EnsureServiceAccount(const std::string& ns);
  void Work();

  kube::Client* client_;
  kube::EventRecorder* events_;
  V1beta1Options options_;
  kube::LogFn log_;
  kube::Informer backup_configurations_;
  kube::Informer backup_sessions_;
  kube::Informer restore_sessions_;
  kube::Informer jobs_;      // ours, by label
  kube::Informer cronjobs_;  // ours, by label
  kube::Informer templates_;  // BackupConfigurationTemplates
  struct Workloads {
    kube::Resource resource;
    std::unique_ptr<kube::Informer> informer;
  };
  std::vector<Workloads> workloads_;  // for the template annotations
  kube::WorkQueue queue_;
  std::thread worker_;
};

}  // namespace stash::op
