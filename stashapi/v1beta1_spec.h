// The v1beta1 generation of Stash objects (stash.appscode.com/v1beta1:
// BackupConfiguration, BackupSession, RestoreSession) as the operator and
// the pods it runs read them, plus the host names that generation gives
// its restic snapshots. docs/stash-objects.md, "v1beta1", has the fields.
//
// Unlike 0.8.3's Restic, one v1beta1 Repository holds every host of a
// target: hosts are told apart by restic's --host, not by a smart prefix.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "base/result.h"
#include "stashapi/restic_spec.h"

namespace stash {

// {apiVersion, kind, name} of the thing backed up or restored.
struct TargetRef {
  std::string api_version, kind, name;
};

// A Task and the values its `${...}` variables take.
struct TaskRef {
  std::string name;
  std::vector<std::pair<std::string, std::string>> params;  // in the object's order
};

// spec.target of a BackupConfiguration or RestoreSession. The volume
// mounts stay JSON (core/v1 VolumeMount), copied as they are into the
// containers the operator builds.
struct V1beta1Target {
  TargetRef ref;
  std::vector<std::string> paths;  // backup only
  std::string volume_mounts_json = "[]";
  int replicas = 1;
};

struct BackupConfigurationSpec {
  std::string ns, name, uid;
  std::string schedule;
  std::string driver = "Restic";  // or "VolumeSnapshotter"
  std::string repository_name;
  TaskRef task;                         // name "" when none
  std::optional<V1beta1Target> target;  // nullopt when the object has none
  RetentionPolicy retention;
  bool paused = false;
  std::string runtime_settings_json = "{}";
  std::string temp_dir_json = "{}";
};

// Reads a BackupConfiguration. kInvalid naming it and the field when it
// has no schedule, no spec.repository.name, or a target without kind and
// name.
Result<BackupConfigurationSpec> ParseBackupConfiguration(const rapidjson::Value& object);

// spec.rules[] of a RestoreSession.
struct RestoreRule {
  std::vector<std::string> target_hosts;  // empty: every host
  std::string source_host;                // "": the restoring host itself
  std::vector<std::string> snapshots;
  std::vector<std::string> paths;
};

struct RestoreSessionSpec {
  std::string ns, name, uid;
  std::string driver = "Restic";
  std::string repository_name;
  TaskRef task;
  std::optional<V1beta1Target> target;
  std::vector<RestoreRule> rules;
  std::string runtime_settings_json = "{}";
  std::string temp_dir_json = "{}";

  // The rule for `host`: the first whose targetHosts names it, else the
  // last with no targetHosts; nullptr when none applies.
  const RestoreRule* RuleFor(const std::string& host) const;
};

// Reads a RestoreSession. kInvalid naming it and the field when it has no
// spec.repository.name, or a rule with both snapshots and paths.
Result<RestoreSessionSpec> ParseRestoreSession(const rapidjson::Value& object);

// One snapshot a host took in a backup session (status.stats[].snapshots[]).
// size, uploaded and processing_time are restic's human-readable strings.
struct SnapshotStats {
  std::string name, path, size, uploaded, processing_time;
  uint64_t total_files = 0, new_files = 0, modified_files = 0, unmodified_files = 0;
};

// status.stats[] of a BackupSession (snapshots empty) or RestoreSession.
struct HostStats {
  std::string hostname;
  std::string phase;  // "Succeeded", "Failed" (restore also "Unknown")
  std::string duration;
  std::string error;
  std::vector<SnapshotStats> snapshots;  // backup only
};

// The JSON of one status.stats[] entry.
std::string HostStatsJson(const HostStats& stats);

// Reads status.stats[] of a session object; entries that are not objects
// are skipped.
std::vector<HostStats> ParseHostStats(const rapidjson::Value& session);

// The restic host a v1beta1 pod backs up as or restores to:
// "host-0" for no target, a Deployment, ReplicaSet, ReplicationController,
// DeploymentConfig or a job-model target (AppBinding, PVC);
// "host-<ordinal>" for a StatefulSet, the ordinal being the last
// "-"-separated token of `pod_name`; `node_name` for a DaemonSet.
// kInvalid naming the missing variable (POD_NAME, NODE_NAME).
Result<std::string> V1beta1Hostname(const std::string& target_kind, const std::string& pod_name,
                                    const std::string& node_name);

}  // namespace stash
