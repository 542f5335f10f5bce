#include "base/thread_pool.h"

#include <cstdint>

namespace stash {

ThreadPool::ThreadPool(size_t threads, size_t max_queued, Order order)
    : max_queued_(max_queued ? max_queued : SIZE_MAX), order_(order) {
  alive_ = threads ? threads : 1;
  for (size_t i = 0; i < alive_; ++i) threads_.emplace_back([this] { Worker(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  has_work_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::Submit(std::function<void()> job) {
  std::unique_lock<std::mutex> lock(mu_);
  has_room_.wait(lock, [this] { return stopping_ || jobs_.size() < max_queued_; });
  if (stopping_) return;
  jobs_.push_back(std::move(job));
  lock.unlock();
  has_work_.notify_one();
}

bool ThreadPool::TrySubmit(std::function<void()> job) {
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_ || jobs_.size() >= max_queued_) return false;
  jobs_.push_back(std::move(job));
  lock.unlock();
  has_work_.notify_one();
  return true;
}

void ThreadPool::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return jobs_.empty() && running_ == 0; });
}

size_t ThreadPool::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return jobs_.size();
}

std::function<void()> ThreadPool::Take() {
  std::function<void()> job;
  if (order_ == Order::kLifo) {
    job = std::move(jobs_.back());
    jobs_.pop_back();
  } else {
    job = std::move(jobs_.front());
    jobs_.pop_front();
  }
  return job;
}

void ThreadPool::Worker() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    has_work_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) break;  // stopping, and nothing left to do
    auto job = Take();
    ++running_;
    lock.unlock();
    has_room_.notify_one();
    job();
    job = nullptr;  // captured state dies outside the lock, before Wait() returns
    lock.lock();
    --running_;
    if (jobs_.empty() && running_ == 0) idle_.notify_all();
  }
  --alive_;
  exited_.notify_all();
}

bool ThreadPool::Shutdown(std::chrono::milliseconds deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  stopping_ = true;
  jobs_.clear();
  has_work_.notify_all();
  has_room_.notify_all();
  idle_.notify_all();
  bool all = exited_.wait_for(lock, deadline, [&] { return alive_ == 0; });
  lock.unlock();
  for (auto& t : threads_) {
    if (!t.joinable()) continue;
    if (all) t.join();
    else t.detach();
  }
  threads_.clear();
  return all;
}

}  // namespace stash
