// `stash create-backupsession`: what a BackupConfiguration's CronJob runs.
// It creates BackupSession <bc>-<unix seconds> in the BackupConfiguration's
// namespace, owned by it, labelled with its labels plus
// app.kubernetes.io/component=stash-backup,
// app.kubernetes.io/managed-by=stash.appscode.com and
// stash.appscode.com/backup-configuration=<bc>. A paused
// BackupConfiguration gets none (the CronJob keeps running).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "kube/client.h"
#include "kube/object.h"

namespace stash::agent {

// The BackupSession for `bc` (a BackupConfiguration object) at `unix_seconds`.
std::string BackupSessionJson(const kube::Json& bc, int64_t unix_seconds);

struct CreatedSession {
  std::string name;  // "" when skipped
  std::string message;
};

// Reads the BackupConfiguration ns/name and creates its session. A paused
// one: no session, the message says so. kNotFound naming a missing
// BackupConfiguration.
Result<CreatedSession> CreateBackupSession(kube::Client& client, const std::string& ns, const std::string& name,
                                           int64_t unix_seconds);

}  // namespace stash::agent
