// Repository locks, compatible with restic's locks/ files.
//
// A shared lock (backup, restore, check, listing) conflicts only with an
// exclusive one (forget, prune); an exclusive lock conflicts with any other.
// A lock older than 30 minutes, or held by a process on this host that no
// longer exists, is stale. See docs/repository-format.md, 7.
//
// Stale locks still block, as in restic 0.14: its conflict check looks at
// every readable lock and never asks whether it is stale, so a lock left
// by a crashed process blocks exclusive commands until `unlock` (which
// removes only stale locks) runs or 30 minutes pass and `unlock` runs.
// Lock files that cannot be read or decrypted are ignored, as restic does.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/go_time.h"
#include "storage/repository.h"

namespace stash {

enum class LockMode { kShared, kExclusive };

class RepositoryLock {
 public:
  // Writes a lock file, waits briefly and checks again for conflicting
  // locks, as restic does. kConflict names the holder (host, PID, user,
  // age) when the repository is already locked. While held, the lock file
  // is refreshed in the background every 5 minutes.
  //
  // The refresh thread calls repo.SaveFile and repo.backend().Remove while
  // the caller keeps using `repo`; that is safe because SaveFile only reads
  // the key and config (fixed once opened) and backends are thread-safe.
  // `repo` must outlive the lock.
  static Result<std::unique_ptr<RepositoryLock>> Acquire(Repository& repo, LockMode mode);

  // Removes the lock file.
  ~RepositoryLock();
  RepositoryLock(const RepositoryLock&) = delete;
  RepositoryLock& operator=(const RepositoryLock&) = delete;

  // Stops the refresh thread (promptly, even mid-interval) and removes the
  // lock file. Calling it again does nothing.
  Status Release();

 private:
  friend struct LockTestPeer;  // unit tests shorten the intervals below
  struct State;
  explicit RepositoryLock(std::unique_ptr<State> state);
  static void SetTimingForTest(std::chrono::milliseconds refresh,
                               std::chrono::milliseconds recheck_wait);
  std::unique_ptr<State> state_;
};

// Removes stale locks, or every lock with `all`; returns how many.
Result<int> RemoveLocks(Repository& repo, bool all);

// ---- Lock files themselves, for `cat lock`, `check` and tests ----

// One locks/ file: {"time":..,"exclusive":..,"hostname":..,"username":..,
// "pid":N,"uid":N,"gid":N} with uid and gid left out when 0.
struct LockInfo {
  Timestamp time;
  bool exclusive = false;
  std::string hostname;
  std::string username;
  int64_t pid = 0;
  uint32_t uid = 0, gid = 0;
};

// Compact JSON exactly as restic 0.14's json.Marshal writes a Lock.
std::string EncodeLockInfo(const LockInfo& lock);
// kCorrupt when it is not a lock object (Go would fail to unmarshal it).
Result<LockInfo> DecodeLockInfo(ByteView json);

// A lock for this process, user and host, taken now.
LockInfo CurrentProcessLock(LockMode mode);

// restic's rule: older than 30 minutes, or made on this host by a process
// that no longer exists.
bool IsStale(const LockInfo& lock, const Timestamp& now);

// restic's description of a holder, on one line:
// "PID 12 on host by user (UID 0, GID 0); lock was created at
// 2022-09-01 12:00:00 (3m2.5s ago); storage ID 1a2b3c4d".
std::string DescribeLock(const LockInfo& lock, const Id& id, const Timestamp& now);

// Every lock file that can be read, in listing order; unreadable ones are
// skipped as restic skips them.
Result<std::vector<std::pair<Id, LockInfo>>> ListLocks(Repository& repo);

}  // namespace stash
