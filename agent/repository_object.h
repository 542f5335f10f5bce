// The Repository object (stash.appscode.com/v1alpha1) a sidecar keeps for
// its host: created when missing, its labels and spec.backend brought up to
// date on every run, and its status counting successful sessions, as Stash
// 0.8.3's sidecar kept it.
//
// Where we differ: 0.8.3 replaced the whole spec each run, which reset a
// user's `wipeOut: true`; we replace spec.backend only. Labels others put
// on the object are kept.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include <rapidjson/document.h>

#include "base/result.h"
#include "kube/client.h"

namespace stash::agent {

inline const kube::Resource kRepositories{"stash.appscode.com", "v1alpha1", "repositories", "Repository", true};

struct RepositoryObject {
  std::string ns, name;
  std::map<std::string, std::string> labels;
  std::string backend_json;  // spec.backend
};

// The whole object, for a create.
std::string RepositoryJson(const RepositoryObject& want);

// Brings `existing` to `want`: our labels set, spec.backend replaced.
// False when it already matched.
bool UpdateRepository(rapidjson::Document& existing, const RepositoryObject& want);

// The status after a successful session that started at `start` and took
// `duration`: backupCount + 1, lastBackupTime = start, firstBackupTime =
// start when unset, lastBackupDuration as Go prints a duration.
void RecordBackup(rapidjson::Document& repository, std::chrono::system_clock::time_point start,
                  std::chrono::nanoseconds duration);

// Create-or-update through the API server. Errors name the Repository.
Status EnsureRepository(kube::Client& client, const RepositoryObject& want);

// RecordBackup through the status subresource, retried on conflicts.
Status RecordBackupStatus(kube::Client& client, const std::string& ns, const std::string& name,
                          std::chrono::system_clock::time_point start, std::chrono::nanoseconds duration);

}  // namespace stash::agent
