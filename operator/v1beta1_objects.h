// The objects the operator makes for the v1beta1 generation of Stash, and
// the decisions of its phase machines, as pure functions (tested without a
// server): the backup CronJob of a BackupConfiguration, the service account
// its CronJob and Jobs run as, the Job of a job-model session, and how many
// hosts a session waits for. docs/stash-objects.md, "v1beta1", has the rules.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "kube/object.h"
#include "kube/resource.h"
#include "stashapi/v1beta1_spec.h"

namespace stash::op {

inline const kube::Resource kBackupConfigurations{"stash.appscode.com", "v1beta1", "backupconfigurations",
                                                  "BackupConfiguration", true};
inline const kube::Resource kBackupSessions{"stash.appscode.com", "v1beta1", "backupsessions", "BackupSession", true};
inline const kube::Resource kRestoreSessions{"stash.appscode.com", "v1beta1", "restoresessions", "RestoreSession",
                                             true};
inline const kube::Resource kFunctions{"stash.appscode.com", "v1beta1", "functions", "Function", false};
inline const kube::Resource kTasks{"stash.appscode.com", "v1beta1", "tasks", "Task", false};
inline const kube::Resource kBackupConfigurationTemplates{"stash.appscode.com", "v1beta1",
                                                          "backupconfigurationtemplates",
                                                          "BackupConfigurationTemplate", false};
inline const kube::Resource kAppBindings{"appcatalog.appscode.com", "v1alpha1", "appbindings", "AppBinding", true};

inline constexpr char kStashFinalizer[] = "stash.appscode.com";
inline constexpr char kV1beta1AgentClusterRole[] = "stash-v1beta1-agent";
inline constexpr char kManagedByLabel[] = "app.kubernetes.io/managed-by";
inline constexpr char kManagedBy[] = "stash.appscode.com";
inline constexpr char kBackupConfigurationLabel[] = "stash.appscode.com/backup-configuration";
inline constexpr char kRestoreSessionLabel[] = "stash.appscode.com/restore-session";
inline constexpr char kDeleteJobLabel[] = "stash.appscode.com/delete-job-on-completion";

// `name` with "." -> "-" (CronJob and Job names).
std::string Dashed(const std::string& name);

// The CronJob schedule for a BackupConfiguration's spec.schedule: five
// fields and the @hourly-style macros as they are; "@every Nm" (N dividing
// 60) as "*/N * * * *", "@every 1h" as "0 * * * *". kInvalid naming the
// schedule otherwise (six fields, other @every durations, what does not parse).
Result<std::string> BackupCronSchedule(const std::string& schedule);

// The CronJob that creates the BackupSessions of `bc` (the object), named
// Dashed(bc name), owned by it: `stash create-backupsession`.
Result<std::string> BackupCronJobJson(const kube::Json& bc, const std::string& image);

// ServiceAccount stash-v1beta1 and RoleBinding stash-v1beta1-agent of a
// namespace (the CronJob's and the Jobs' account, bound to the ClusterRole
// stash-v1beta1-agent).
std::string V1beta1ServiceAccountJson(const std::string& ns);
std::string V1beta1RoleBindingJson(const std::string& ns);

// Whether `kind` is a workload the sidecar model backs up.
bool IsWorkloadKind(const std::string& kind);

// How many hosts report for a target: 1 for the job model and Deployment,
// ReplicaSet, ReplicationController; spec.replicas of a StatefulSet (1 when
// unset); status.desiredNumberScheduled of a DaemonSet. `workload` is the
// target object (nullptr for the job model).
int TotalHosts(const std::string& kind, const kube::Json* workload);

// A session's status as read.
struct SessionState {
  std::string phase;
  std::optional<int> total_hosts;
  std::vector<HostStats> stats;
};
SessionState ReadSessionState(const kube::Json& session);

// Succeeded, Failed or Skipped: never touched again.
bool SessionFinished(const std::string& phase);

// When every host reported (stats >= totalHosts): "Failed" when one failed,
// else "Succeeded"; nullopt while hosts are missing.
std::optional<std::string> CompletedPhase(const SessionState& state);

// The sum of the hosts' durations as a Go duration ("1m2.5s").
std::string SessionDuration(const std::vector<HostStats>& stats);

// A merge patch of a session's status subresource: phase, and each of
// totalHosts, sessionDuration and a condition {type, status, reason,
// message} when given.
struct SessionUpdate {
  std::string phase;
  std::optional<int> total_hosts;
  std::string session_duration;
  std::string reason, message;  // a condition when reason is set
};
std::string SessionStatusPatch(const SessionUpdate& update);

// The Job of a job-model session: `name`, owned by the session (kind
// BackupSession or RestoreSession), labels (managed-by, the BC or
// RestoreSession, delete-job-on-completion=false), backoffLimit 0, the
// resolved `pod_spec_json`.
std::string TaskJobJson(const kube::Json& session, const kube::Resource& kind, const std::string& name,
                        const std::vector<std::pair<std::string, std::string>>& labels,
                        const std::string& pod_spec_json);

// Why the Job failed: the termination message of the first container that
// exited non-zero in its pods (init containers too), else the Job's Failed
// condition message, else "Job <name> failed".
std::string JobFailure(const kube::Json& job, const std::vector<kube::ObjectPtr>& pods);

// Whether the Job has condition `type` True.
bool JobConditionTrue(const kube::Json& job, const char* type);

// Auto-backup: a workload annotated with the name of a
// BackupConfigurationTemplate (kTemplateAnnotation, or the later name
// kBlueprintAnnotation) gets a Repository and a BackupConfiguration, both
// named "<kind lower case>-<name>", from the template resolved with
// TARGET_API_VERSION, TARGET_KIND (lower case), TARGET_NAME,
// TARGET_NAMESPACE and TARGET_RESOURCE; the target's paths from
// kTargetPathsAnnotation ("/a,/b"), its volume mounts from
// kVolumeMountsAnnotation ("vol:/mount/path,vol2:/path2").
inline constexpr char kTemplateAnnotation[] = "stash.appscode.com/backup-template";
inline constexpr char kBlueprintAnnotation[] = "stash.appscode.com/backup-blueprint";
inline constexpr char kTargetPathsAnnotation[] = "stash.appscode.com/target-paths";
inline constexpr char kVolumeMountsAnnotation[] = "stash.appscode.com/volume-mounts";
inline constexpr char kTemplateLabel[] = "stash.appscode.com/backup-template";

// The template a workload names ("" when none); kTemplateAnnotation wins.
std::string TemplateOf(const kube::Json& workload);

// "<kind lower case>-<name>".
std::string AutoBackupName(const std::string& kind, const std::string& name);

struct AutoBackup {
  std::string repository_json;
  std::string backup_configuration_json;  // owned by the workload
};

// The Repository and BackupConfiguration `template_object` makes for
// `workload` of `kind`. kInvalid naming the template or annotation when a
// variable has no value or the volume-mounts annotation is malformed.
Result<AutoBackup> AutoBackupObjects(const kube::Json& template_object, const kube::Json& workload,
                                     const std::string& kind);

}  // namespace stash::op
