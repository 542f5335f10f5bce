// A Task and its Functions (stash.appscode.com/v1beta1, cluster-scoped)
// turned into the pod of the Job that backs up or restores a job-model
// target (an AppBinding, a PVC, no target): the inputs Stash's operator
// gave the `${...}` variables, and the pod spec built from the resolved
// Functions. docs/stash-objects.md, "v1beta1", has the rules.
#pragma once

#include <functional>
#include <string>

#include <rapidjson/document.h>

#include "base/result.h"
#include "stashapi/envsubst.h"
#include "stashapi/v1beta1_spec.h"

namespace stash {

// outputDir when no step param sets it.
inline constexpr char kDefaultOutputDir[] = "/tmp/output";
// The service account the operator's Jobs and CronJobs run as.
inline constexpr char kV1beta1ServiceAccount[] = "stash-v1beta1";

// REPOSITORY_NAME, REPOSITORY_PROVIDER, REPOSITORY_SECRET_NAME,
// REPOSITORY_BUCKET, REPOSITORY_PREFIX, REPOSITORY_ENDPOINT (s3),
// REPOSITORY_URL (rest), MAX_CONNECTIONS (when > 0) of a Repository. A
// local backend gives its mountPath as the bucket and subPath as the prefix.
SubstInputs RepositoryInputs(const rapidjson::Value& repository);

// TARGET_NAME, TARGET_API_VERSION, TARGET_KIND (lower case),
// TARGET_RESOURCE (the plural), TARGET_NAMESPACE, TARGET_MOUNT_PATH (the
// first volume mount's), TARGET_PATHS (comma joined) of a target.
SubstInputs TargetInputs(const V1beta1Target& target, const std::string& ns);

// TARGET_APP_TYPE, TARGET_APP_GROUP and TARGET_APP_RESOURCE (the type split
// at "/"), TARGET_APP_VERSION of an AppBinding.
SubstInputs AppBindingInputs(const rapidjson::Value& appbinding);

// RETENTION_* of a policy, each only when set (> 0, true, non-empty).
SubstInputs RetentionInputs(const RetentionPolicy& policy);

// ENABLE_CACHE from tempDir.disableCaching, NICE_ADJUSTMENT, IONICE_CLASS,
// IONICE_CLASS_DATA from runtimeSettings.container when set.
SubstInputs SettingsInputs(const std::string& runtime_settings_json, const std::string& temp_dir_json);

// Everything above for a backup session's Job: NAMESPACE, BACKUP_SESSION,
// HOSTNAME (host-0), ENABLE_STATUS_SUBRESOURCE, PROMETHEUS_PUSHGATEWAY_URL
// (when set), the Repository's, the target's, the AppBinding's (`appbinding`
// may be null) and the retention inputs.
SubstInputs BackupJobInputs(const BackupConfigurationSpec& bc, const std::string& session,
                            const rapidjson::Value& repository, const rapidjson::Value* appbinding,
                            const std::string& pushgateway_url);

// The same for a RestoreSession: RESTORE_SESSION, HOSTNAME (host-0),
// SOURCE_HOSTNAME, RESTORE_PATHS and RESTORE_SNAPSHOTS from the rule for
// host-0, TARGET_APP_REPLICAS.
SubstInputs RestoreJobInputs(const RestoreSessionSpec& restore, const rapidjson::Value& repository,
                             const rapidjson::Value* appbinding, const std::string& pushgateway_url);

// Looks a Function up by name; nullptr when there is none.
using FunctionLookup = std::function<const rapidjson::Value*(const std::string& name)>;

struct TaskPodRequest {
  SubstInputs params;  // the BackupConfiguration's / RestoreSession's spec.task.params
  SubstInputs inputs;  // the implicit inputs; they win over params
  std::string runtime_settings_json = "{}";  // the BackupConfiguration's / RestoreSession's
  std::string temp_dir_json = "{}";
  // The Repository's spec.backend.local ("" when not local): its volume
  // goes in as stash-local, mounted in every container at its mountPath
  // with its subPath, where the steps find the repository.
  std::string local_backend_json;
};

// The pod spec (JSON) of the Job running `task`: each step a container
// "<function name, '.' -> '-'>-<i>" made from its Function resolved with
// ({outputDir} <- step params <- params <- inputs, the later winning), all
// but the last as initContainers, tmp-dir (emptyDir, tempDir's medium and
// sizeLimit) at /tmp in each, terminationMessagePolicy
// FallbackToLogsOnError, env NAMESPACE from the downward API,
// restartPolicy Never, service account stash-v1beta1 (unless the pod
// runtime settings name one), the Task's resolved volumes, then the
// runtime settings on top, and a local backend's volume. kInvalid naming the Task when it has no steps,
// naming the Function when it is missing, and "can't resolve Function F for
// Task T: variable V has no value and no default" when a variable fails.
Result<std::string> TaskPodSpecJson(const rapidjson::Value& task, const FunctionLookup& functions,
                                    const TaskPodRequest& request);

}  // namespace stash
