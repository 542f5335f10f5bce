#include "apiserver/snapshots/prune_queue.h"

namespace stash::apiserver {

PruneQueue::PruneQueue(Options options, Observer observer)
    : options_(options), observer_(std::move(observer)), worker_([this] { Worker(); }) {}

PruneQueue::~PruneQueue() { Stop(); }

void PruneQueue::Request(const std::string& key, Job job) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return;
  auto [it, inserted] = pending_.try_emplace(key);
  it->second.job = std::move(job);
  // A waiting request keeps its time, so a stream of deletes cannot put
  // the prune off for ever; a new one waits the whole window.
  if (inserted) it->second.due = Clock::now() + options_.delay;
  cv_.notify_all();
}

void PruneQueue::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    pending_.clear();
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

size_t PruneQueue::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.size() + (running_.empty() ? 0 : 1);
}

void PruneQueue::Worker() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    // The earliest due request whose repository is not being pruned.
    auto next = pending_.end();
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (next == pending_.end() || it->second.due < next->second.due) next = it;
    }
    if (next == pending_.end()) {
      cv_.wait(lock);
      continue;
    }
    if (Clock::time_point due = next->second.due; due > Clock::now()) {
      // A copy: wait_until reads the time again after waking, when Stop or
      // Request may have replaced or freed the entry.
      cv_.wait_until(lock, due);
      continue;
    }
    std::string key = next->first;
    Pending request = std::move(next->second);
    pending_.erase(next);
    running_ = key;
    lock.unlock();
    Status status = request.job();
    if (observer_) observer_(key, status);
    lock.lock();
    running_.clear();
    bool locked = !status.ok() && status.error().kind() == ErrorKind::kConflict;
    if (locked && !stopping_ && ++request.attempts < options_.max_attempts &&
        !pending_.count(key)) {
      request.due = Clock::now() + options_.retry_delay;
      pending_.emplace(key, std::move(request));
    }
  }
}

}  // namespace stash::apiserver
