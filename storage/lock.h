// Repository locks, compatible with restic's locks/ files.
//
// A shared lock (backup, restore, check, listing) conflicts only with an
// exclusive one (forget, prune); an exclusive lock conflicts with any other.
// A lock older than 30 minutes, or held by a process on this host that no
// longer exists, is stale. See restic-format.md §7.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "storage/repository.h"

namespace stash {

enum class LockMode { kShared, kExclusive };

class RepositoryLock {
 public:
  // Writes a lock file, waits briefly and checks again for conflicting
  // locks, as restic does. kConflict names the holder (host, PID, user,
  // age) when the repository is already locked. While held, the lock file
  // is refreshed in the background every 5 minutes.
  static Result<std::unique_ptr<RepositoryLock>> Acquire(Repository& repo, LockMode mode);

  // Removes the lock file.
  ~RepositoryLock();
  RepositoryLock(const RepositoryLock&) = delete;
  RepositoryLock& operator=(const RepositoryLock&) = delete;

  Status Release();

 private:
  struct State;
  explicit RepositoryLock(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Removes stale locks, or every lock with `all`; returns how many.
Result<int> RemoveLocks(Repository& repo, bool all);

}  // namespace stash
