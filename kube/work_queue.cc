#include "kube/work_queue.h"

#include <algorithm>
#include <cmath>

namespace stash::kube {

using std::chrono::milliseconds;

WorkQueue::WorkQueue(RateLimits limits)
    : limits_(limits), tokens_(limits.burst), bucket_at_(Clock::now()) {}

void WorkQueue::Add(const std::string& key) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    AddLocked(key);
  }
  cv_.notify_one();
}

void WorkQueue::AddLocked(const std::string& key) {
  if (shutdown_) return;
  if (processing_.count(key)) {
    dirty_.insert(key);  // queued again when its worker is done
    return;
  }
  if (queued_.insert(key).second) queue_.push_back(key);
}

void WorkQueue::AddAfter(const std::string& key, milliseconds delay) {
  if (delay.count() <= 0) return Add(key);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutdown_) return;
    delayed_.emplace(Clock::now() + delay, key);
  }
  cv_.notify_all();  // a waiting Get() may need to wake earlier
}

// The larger of the key's backoff and the shared bucket's wait.
milliseconds WorkQueue::NextDelayLocked(const std::string& key) {
  int n = failures_[key]++;
  double per_key = static_cast<double>(limits_.base_delay.count()) * std::pow(2.0, std::min(n, 40));
  per_key = std::min(per_key, static_cast<double>(limits_.max_delay.count()));
  auto now = Clock::now();
  double elapsed = std::chrono::duration<double>(now - bucket_at_).count();
  bucket_at_ = now;
  tokens_ = std::min<double>(limits_.burst, tokens_ + elapsed * limits_.qps);
  tokens_ -= 1;  // may go negative: later keys wait for the refill
  double bucket = tokens_ >= 0 ? 0 : -tokens_ / limits_.qps * 1000.0;
  return milliseconds(static_cast<long long>(std::max(per_key, bucket)));
}

void WorkQueue::AddRateLimited(const std::string& key) {
  milliseconds delay;
  {
    std::lock_guard<std::mutex> lock(mu_);
    delay = NextDelayLocked(key);
  }
  AddAfter(key, delay);
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
}

int WorkQueue::Retries(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::PromoteDueLocked(Clock::time_point now) {
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    std::string key = delayed_.begin()->second;
    delayed_.erase(delayed_.begin());
    AddLocked(key);
  }
}

std::optional<std::string> WorkQueue::Get() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (shutdown_) return std::nullopt;
    PromoteDueLocked(Clock::now());
    if (!queue_.empty()) break;
    if (delayed_.empty()) {
      cv_.wait(lock);
    } else {
      cv_.wait_until(lock, delayed_.begin()->first);
    }
  }
  std::string key = queue_.front();
  queue_.pop_front();
  queued_.erase(key);
  processing_.insert(key);
  return key;
}

void WorkQueue::Done(const std::string& key) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    processing_.erase(key);
    if (dirty_.erase(key)) AddLocked(key);
  }
  cv_.notify_one();
}

void WorkQueue::ShutDown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
  }
  cv_.notify_all();
}

bool WorkQueue::shutting_down() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shutdown_;
}

size_t WorkQueue::Len() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void RunWorker(WorkQueue& queue, const std::function<Status(const std::string&)>& reconcile,
               const std::function<void(const std::string&)>& log, const std::string& what) {
  while (auto key = queue.Get()) {
    Status s = reconcile(*key);
    if (s.ok()) {
      queue.Forget(*key);
    } else {
      if (log) log("reconcile " + what + *key + ": " + s.error().message());
      queue.AddRateLimited(*key);
    }
    queue.Done(*key);
  }
}

}  // namespace stash::kube
