// One scheduled backup session of a sidecar, as a function of the Restic
// and the world at that moment (Stash 0.8.3's order):
//
//   re-read the Restic; check it; skip when paused;
//   read its storage Secret; open the host's repository (create it when the
//   location holds none); create or update the Repository object;
//   for each file group: back up its path with its tags (reading every
//   file, as 0.8.3's `backup --force`), then apply its retention policy;
//   when every file group succeeded: count the session in the Repository's
//   status and make sure the check Job exists;
//   push the session's metrics (success or failure).
//
// Each failure is one Warning Event on the Restic, naming the thing that
// failed (FailedSetup for a Restic that cannot be used, FailedToBackup for
// the Secret, the storage, the Repository object or a backup,
// FailedToRetention for forget and prune, FailedCronJob for the check Job),
// and the session stops there: nothing already stored is touched, and the
// next session starts from scratch. Paused sessions do nothing at all (no
// storage access, no status, no metrics).
#pragma once

#include <map>
#include <string>

#include "agent/check_job.h"
#include "agent/workload.h"
#include "kube/client.h"
#include "kube/events.h"

namespace stash::agent {

inline const kube::Resource kRestics{"stash.appscode.com", "v1alpha1", "restics", "Restic", true};

// Event reasons, as 0.8.3 named them (component "stash-backup").
namespace reason {
inline constexpr char kFailedSetup[] = "FailedSetup";
inline constexpr char kFailedToBackup[] = "FailedToBackup";
inline constexpr char kSuccessfulBackup[] = "SuccessfulBackup";
inline constexpr char kFailedToRetention[] = "FailedToRetention";
inline constexpr char kCheckJobCreated[] = "CheckJobCreated";
inline constexpr char kFailedCronJob[] = "FailedCronJob";
inline constexpr char kFailedToCheck[] = "FailedToCheck";
}  // namespace reason

// What sessions share: who we are and what we talk to.
struct AgentContext {
  kube::Client* client = nullptr;
  kube::EventRecorder* events = nullptr;
  kube::LogFn log;
  std::string ns, restic_name;
  Workload workload;
  std::string pod_hostname;     // named in SuccessfulBackup messages
  std::string pushgateway_url;  // "" for no metrics
  std::string pod_labels_path;  // the downward API labels file
  std::string check_image, check_service_account;
};

enum class SessionResult { kSucceeded, kFailed, kPaused, kNoRestic };

SessionResult RunBackupSession(const AgentContext& ctx);

// An Event about the pod the sidecar runs in (when POD_NAME is known), for
// trouble that has no Restic to be told on.
void PodWarning(const AgentContext& ctx, const std::string& reason, const std::string& message);

}  // namespace stash::agent
