// The steps of a v1beta1 Task run in a Job (the job model: a database
// behind an AppBinding). Each Function runs one `stash` command:
//
//   backup-pg    pg_dumpall of the AppBinding's server, streamed into the
//                Repository as one file (dumpfile.sql) of host ${HOSTNAME},
//                retention applied to that host; writes output.json
//   restore-pg   the newest dump of the source host (or the named
//                snapshot) streamed into psql; writes output.json
//   update-status  reads output.json and appends the host's stats to the
//                BackupSession or RestoreSession, and records a successful
//                backup in the Repository's status
//
// The steps hand over through <output-dir>/output.json:
//   {"hostBackupStats": {hostname, phase, snapshots, duration, error},
//    "repositoryStats": {"snapshotCount": N}}      (backup)
//   {"hostRestoreStats": {hostname, phase, duration, error}}  (restore)
// A step that fails writes its Failed stats with the error there and exits
// 0, so that update-status (the next container) reports it; only a step
// that cannot write output.json fails its container.
//
// The connection comes from the AppBinding: host and port from
// spec.clientConfig (url, else service name.namespace.svc and port),
// user and password from the `username` and `password` keys of its
// spec.secret.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "stashapi/restic_spec.h"
#include "stashapi/v1beta1_spec.h"

namespace stash::agent {

struct StepOutput {
  std::optional<HostStats> backup, restore;
  int64_t snapshot_count = -1;
};

std::string StepOutputJson(const StepOutput& output);
// kInvalid naming the file when it is not such JSON.
Result<StepOutput> ParseStepOutput(std::string_view json, const std::string& file);

Status WriteStepOutput(const std::string& dir, const StepOutput& output);
// kNotFound naming the file when the previous step wrote none.
Result<StepOutput> ReadStepOutput(const std::string& dir);

struct UpdateStatusOptions {
  std::string ns, repository, backup_session, restore_session, output_dir;
};

// Reports output.json to the session named. Without output.json the host
// (host-0) is reported Failed, naming the missing file.
Status RunUpdateStatus(kube::Client& client, const UpdateStatusOptions& options, const kube::LogFn& log);

// Where and as whom to connect.
struct DatabaseConnection {
  std::string host, port, username, password;
};

// host and port of clientConfig.url ([scheme://]host[:port][/path]); the
// port is "" when the URL has none. kInvalid naming the URL.
Result<std::pair<std::string, std::string>> HostPortOfUrl(const std::string& url);

// Reads the AppBinding and its Secret. kNotFound / kInvalid naming the
// AppBinding, the Secret or the missing key.
Result<DatabaseConnection> ReadConnection(kube::Client& client, const std::string& ns, const std::string& appbinding);

struct DatabaseStepOptions {
  std::string ns, appbinding, repository;
  std::string hostname = "host-0";
  std::string source_hostname;   // restore: "" for hostname
  std::vector<std::string> snapshots;  // restore: RESTORE_SNAPSHOTS
  std::string output_dir = "/tmp/output";
  std::vector<std::string> extra_args;  // pg_dumpall / psql arguments (--pg-args, split at spaces)
  RetentionPolicy retention;            // backup
  std::string dump_command = "pg_dumpall", restore_command = "psql";
};

// The step's stats (Failed with the error when anything failed); the
// caller writes them to output.json.
StepOutput BackupPostgres(kube::Client& client, const DatabaseStepOptions& options, const kube::LogFn& log);
StepOutput RestorePostgres(kube::Client& client, const DatabaseStepOptions& options, const kube::LogFn& log);

// The file a dump is stored as in its snapshot.
inline constexpr char kDumpFileName[] = "dumpfile.sql";

}  // namespace stash::agent
