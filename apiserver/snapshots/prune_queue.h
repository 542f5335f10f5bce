// PruneQueue: background prunes after snapshots are deleted, one per
// repository at a time and coalesced.
//
// Deleting a snapshot removes only its file, as `restic forget ID` does;
// the data it alone used is freed by a prune (docs/decisions.md, "4. Verbs").
// Pruning inside the request would make `kubectl delete` wait minutes and
// `delete --all` prune once per snapshot, so deletes only ask for a prune:
// requests for one repository within `delay` of each other become one run,
// a request while that repository's prune runs becomes one more run after
// it, and a prune that finds the repository locked (a backup is running)
// is tried again later.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "base/result.h"

namespace stash::apiserver {

class PruneQueue {
 public:
  using Clock = std::chrono::steady_clock;
  using Job = std::function<Status()>;

  struct Options {
    std::chrono::milliseconds delay{30000};      // coalescing window
    std::chrono::milliseconds retry_delay{60000};  // after a locked repository
    int max_attempts = 10;                          // per request, on kConflict
  };

  // Told about each run's outcome: repository key, status.
  using Observer = std::function<void(const std::string&, const Status&)>;

  PruneQueue(Options options, Observer observer = {});
  ~PruneQueue();  // Stop()
  PruneQueue(const PruneQueue&) = delete;
  PruneQueue& operator=(const PruneQueue&) = delete;

  // Asks for `job` to prune repository `key` after the delay. The newest
  // job for a key replaces a waiting one.
  void Request(const std::string& key, Job job);

  // Drops waiting prunes and waits for a running one to end.
  void Stop();

  size_t pending() const;

 private:
  struct Pending {
    Job job;
    Clock::time_point due;
    int attempts = 0;
  };
  void Worker();

  const Options options_;
  Observer observer_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Pending> pending_;
  std::string running_;  // key of the prune in progress, "" when idle
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace stash::apiserver
