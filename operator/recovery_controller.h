// The Recovery reconciler: runs one restore Job per Recovery and keeps the
// Recovery's status in step with it (recovery_job.h, recovery_status.h).
//
// Level-triggered: informers on Recoveries and on the Jobs labelled
// operation=recovery feed a work queue of Recovery keys ("namespace/name";
// a Job enqueues the Recovery that owns it). Reconcile reads the world and
// acts:
// - the Recovery's Job exists: the status follows it (Pending, Running,
//   Succeeded, Failed with why its pod failed), with an Event per change;
// - no Job, and the status already Succeeded or Failed for this generation
//   of the spec: nothing (so a failure never loops);
// - no Job otherwise: the spec is checked, the Repository and its Secret
//   read (the Repository must be in the Recovery's namespace: the Job reads
//   its Secret, and a Recovery must not reach Secrets of namespaces its
//   author cannot read); bad input sets Failed/InvalidRecovery with a
//   Warning Event and makes nothing; else the Job's service account, role
//   binding and Job are created and the status becomes Pending.
// A Recovery whose Job vanishes before it finished gets a new one. Errors
// talking to the server are retried with the queue's per-key backoff.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "kube/client.h"
#include "kube/events.h"
#include "kube/informer.h"
#include "kube/work_queue.h"
#include "operator/recovery_job.h"
#include "operator/recovery_status.h"

namespace stash::op {

class RecoveryController {
 public:
  RecoveryController(kube::Client* client, kube::EventRecorder* events, RecoveryJobOptions options,
                     kube::LogFn log);
  ~RecoveryController();

  // Starts the informers and waits for their first lists; then the worker.
  Status Start(std::chrono::milliseconds sync_timeout);
  void Stop();

  // Brings the Recovery `key` ("namespace/name") and its Job in line.
  Status Reconcile(const std::string& key);

 private:
  // Why a Recovery cannot be started: the reason and message of its Failed
  // status, or an error worth retrying.
  struct Refusal {
    std::string reason, message;
  };
  // What a Job is made from, read from the cluster; `refusal` says why
  // none can be.
  struct Inputs {
    RecoverySpec spec;
    kube::ObjectPtr repository;
    StashRepository repo;
    std::map<std::string, std::string> secret;
    std::optional<Refusal> refusal;
  };
  Status Follow(const kube::Json& recovery, const kube::Json& job);
  Status Launch(const kube::Json& recovery);
  Result<Inputs> ReadInputs(const kube::Json& recovery);
  std::optional<Refusal> CheckSnapshot(const Inputs& in);
  Result<std::optional<Refusal>> CreateJob(const kube::Json& recovery);
  Status EnsureOwned(const kube::Resource& r, const std::string& ns, const std::string& json);
  Result<std::string> FailureDetailOf(const kube::Json& job);
  // The status and observed generation last written, else the object's.
  std::pair<RecoveryStatus, int64_t> Known(const kube::Json& recovery);
  Status SetStatus(const kube::Json& recovery, const RecoveryStatus& status);
  void EnqueueOwner(const kube::ObjectPtr& job);
  void Work();

  kube::Client* client_;
  kube::EventRecorder* events_;
  RecoveryJobOptions options_;
  kube::LogFn log_;
  kube::Informer recoveries_, jobs_;
  kube::WorkQueue queue_;
  std::thread worker_;
  // The status last written per Recovery uid: the informer may not show it
  // yet when the next event for the same Recovery comes in.
  std::mutex mu_;
  std::map<std::string, std::pair<RecoveryStatus, int64_t>> written_;
};

}  // namespace stash::op
