// WorkQueue: the rate-limited queue of keys that feeds reconcilers, with
// controller-runtime's guarantees:
// - a key is queued at most once however often it is added;
// - a key is handed to one worker at a time: added again while being
//   processed, it is queued again when that worker calls Done;
// - AddRateLimited delays a failing key by its own exponential backoff
//   (5 ms doubling to 1000 s) and, across keys, by a token bucket
//   (10 per second, bursts of 100); Forget resets the key's backoff.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "base/result.h"

namespace stash::kube {

struct RateLimits {
  std::chrono::milliseconds base_delay{5};
  std::chrono::milliseconds max_delay{1000 * 1000};
  double qps = 10;
  int burst = 100;
};

class WorkQueue {
 public:
  using Clock = std::chrono::steady_clock;
  explicit WorkQueue(RateLimits limits = {});

  void Add(const std::string& key);
  void AddAfter(const std::string& key, std::chrono::milliseconds delay);
  void AddRateLimited(const std::string& key);
  void Forget(const std::string& key);
  // Times AddRateLimited was called for the key since it was last forgotten.
  int Retries(const std::string& key) const;

  // The next key, waiting for one; nullopt once shut down.
  std::optional<std::string> Get();
  void Done(const std::string& key);
  // Wakes every Get(); keys still queued are dropped.
  void ShutDown();
  bool shutting_down() const;
  size_t Len() const;

 private:
  void AddLocked(const std::string& key);
  std::chrono::milliseconds NextDelayLocked(const std::string& key);
  void PromoteDueLocked(Clock::time_point now);

  RateLimits limits_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> queued_, processing_, dirty_;
  std::multimap<Clock::time_point, std::string> delayed_;
  std::map<std::string, int> failures_;
  double tokens_;
  Clock::time_point bucket_at_;
  bool shutdown_ = false;
};

// One worker's loop, as controller-runtime runs it: takes keys until the
// queue shuts down, forgets a key `reconcile` succeeded on, and requeues a
// failing one rate-limited after logging "reconcile <what><key>: <error>".
void RunWorker(WorkQueue& queue, const std::function<Status(const std::string&)>& reconcile,
               const std::function<void(const std::string&)>& log, const std::string& what = "");

}  // namespace stash::kube
