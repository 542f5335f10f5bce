#include "engine/work_queue.h"

#include <cstdint>

namespace stash {

WorkQueue::WorkQueue(size_t threads, size_t max_queued, Order order)
    : max_queued_(max_queued ? max_queued : SIZE_MAX), order_(order) {
  for (size_t i = 0; i < (threads ? threads : 1); ++i) threads_.emplace_back([this] { Worker(); });
}

WorkQueue::~WorkQueue() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  has_work_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkQueue::Submit(std::function<void()> job) {
  std::unique_lock<std::mutex> lock(mu_);
  has_room_.wait(lock, [this] { return jobs_.size() < max_queued_; });
  jobs_.push_back(std::move(job));
  lock.unlock();
  has_work_.notify_one();
}

void WorkQueue::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return jobs_.empty() && running_ == 0; });
}

void WorkQueue::Worker() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    has_work_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping, and nothing left to do
    std::function<void()> job;
    if (order_ == Order::kLifo) {
      job = std::move(jobs_.back());
      jobs_.pop_back();
    } else {
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    ++running_;
    lock.unlock();
    has_room_.notify_one();
    job();
    lock.lock();
    --running_;
    if (jobs_.empty() && running_ == 0) idle_.notify_all();
  }
}

}  // namespace stash
