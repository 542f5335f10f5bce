// What the v1beta1 pod commands share (run-backup, restore-session,
// update-status, backup-pg, restore-pg): the objects they read, the
// repository they open, and how a host reports to its session.
//
// The repository of a v1beta1 Repository is its spec.backend as it is (no
// smart prefix; hosts are told apart by restic's --host). A local backend
// is read where the pod mounts its volume: at mountPath, the volume being
// mounted with the backend's subPath, as for the 0.8.3 sidecar and the
// Recovery Job (so the folder is hostPath.path/subPath on the node).
//
// A host reports by appending one entry to the session's status.stats
// (read-modify-write of the status subresource, retried on conflicts): an
// entry for a hostname that is already there is never added twice. The
// session's phase is the operator's to set.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include <rapidjson/document.h>

#include "agent/storage_access.h"
#include "base/result.h"
#include "engine/archiver.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "stashapi/stash_repository.h"
#include "stashapi/v1beta1_spec.h"

namespace stash::agent {

inline const kube::Resource kBackupConfigurations{"stash.appscode.com", "v1beta1", "backupconfigurations",
                                                  "BackupConfiguration", true};
inline const kube::Resource kBackupSessions{"stash.appscode.com", "v1beta1", "backupsessions", "BackupSession",
                                            true};
inline const kube::Resource kRestoreSessions{"stash.appscode.com", "v1beta1", "restoresessions", "RestoreSession",
                                             true};
inline const kube::Resource kAppBindings{"appcatalog.appscode.com", "v1alpha1", "appbindings", "AppBinding", true};

// How long a v1beta1 host waits for another host's lock on the shared
// repository (a backup, a prune) before it gives up.
inline constexpr std::chrono::seconds kLockRetry{300};

// A Repository object, its storage Secret, read through the API.
struct V1beta1Repository {
  StashRepository object;
  std::map<std::string, std::string> secret;
};

// kNotFound naming the Repository or Secret that is missing.
Result<V1beta1Repository> ReadV1beta1Repository(kube::Client& client, const std::string& ns,
                                                const std::string& name);

// The restic location of a v1beta1 Repository (see above).
Result<std::string> V1beta1Location(const StashBackend& backend, const std::map<std::string, std::string>& secret);

// Opens the repository, creating it when the location holds none and
// `create` is set; `host` is recorded as the creator.
Result<OpenedRepository> OpenV1beta1Repository(const V1beta1Repository& repo, const std::string& host,
                                               bool create);

// One backup of `path` (or of a stream) as a session's snapshot stats:
// name = the short snapshot id, sizes as restic prints them.
SnapshotStats SnapshotStatsOf(const BackupSummary& summary, const std::string& path);


// Adds `stats` to status.stats of a session; false when an entry for its
// hostname is already there.
bool AddHostStats(rapidjson::Document& session, const HostStats& stats);

// The entry of `host` in a session's status.stats; nullptr when none.
std::optional<HostStats> HostEntry(const rapidjson::Value& session, const std::string& host);

// AddHostStats through the status subresource. Ok as well when the host
// had already reported. Errors name the session.
Status AppendHostStats(kube::Client& client, const kube::Resource& kind, const std::string& ns,
                       const std::string& name, const HostStats& stats);

// A Repository's status after a successful backup (v1beta1): backupCount +
// 1, lastBackupTime, firstBackupTime when unset, lastBackupDuration, and
// snapshotCount (when >= 0).
void RecordV1beta1Backup(rapidjson::Document& repository, std::chrono::system_clock::time_point start,
                         std::chrono::nanoseconds duration, int64_t snapshot_count);

Status RecordV1beta1BackupStatus(kube::Client& client, const std::string& ns, const std::string& name,
                                 std::chrono::system_clock::time_point start, std::chrono::nanoseconds duration,
                                 int64_t snapshot_count);

// The metrics a v1beta1 host pushes after a backup (Stash 0.9's names),
// Prometheus text format.
struct V1beta1BackupMetrics {
  bool success = false;
  double duration_seconds = 0;
  uint64_t size_bytes = 0, uploaded_bytes = 0;
  double processing_seconds = 0;
  uint64_t files_total = 0, files_new = 0, files_modified = 0, files_unmodified = 0;
  int64_t snapshot_count = -1;  // -1: unknown, left out
};
std::string BackupMetricsText(const V1beta1BackupMetrics& m);
std::string RestoreMetricsText(bool success, double duration_seconds);

// Pushes to <url>/metrics/job/stash-<backup|restore>/namespace/<ns>/<invoker>/<name>/host/<host>;
// failures are logged, never fatal.
void PushV1beta1Metrics(const std::string& url, const std::string& job, const std::string& ns,
                        const std::string& invoker_label, const std::string& invoker, const std::string& host,
                        const std::string& text, const kube::LogFn& log);

}  // namespace stash::agent
