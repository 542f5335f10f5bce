// Reaching a host's restic repository from a Restic: its storage Secret,
// the backend with the smart prefix, and the repository itself, created on
// first use as Stash 0.8.3 did ("init if absent").
//
// A repository is created only when the location holds none (no config
// file). Any other failure (the backend unreachable, a wrong password, a
// damaged config) is returned as it is, so a bad Secret can never make the
// sidecar write a second repository over the first.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "base/result.h"
#include "kube/client.h"
#include "stashapi/stash_backend.h"
#include "storage/lock.h"
#include "storage/repository.h"

namespace stash::agent {

// The Secret's data, decoded. kNotFound / kInvalid naming the Secret when
// it is missing or has no RESTIC_PASSWORD.
Result<std::map<std::string, std::string>> ReadStorageSecret(kube::Client& client, const std::string& ns,
                                                              const std::string& name);

struct OpenedRepository {
  std::unique_ptr<Repository> repo;
  std::string location;
  bool created = false;
};

// Opens the repository of this host, creating it when missing and
// `create` is set (kNotFound otherwise). Errors name the location.
Result<OpenedRepository> OpenHostRepository(const StashBackend& backend, const std::string& smart_prefix,
                                            const std::map<std::string, std::string>& secret,
                                            const std::string& host, bool create = true);

// RepositoryLock::Acquire, tried again every second while another
// process holds a conflicting lock, for up to `retry` (restic's
// --retry-lock): the hosts of a v1beta1 Repository share it, and one
// host's prune must not fail another's backup. The last conflict when the
// time is up.
Result<std::unique_ptr<RepositoryLock>> AcquireLockRetrying(Repository& repo, LockMode mode,
                                                            std::chrono::seconds retry);

}  // namespace stash::agent
