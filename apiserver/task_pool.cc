#include "apiserver/task_pool.h"

namespace stash::apiserver {

TaskPool::TaskPool(size_t threads) {
  alive_ = threads;
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Worker(); });
}

TaskPool::~TaskPool() { Shutdown(); }

void TaskPool::Post(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

size_t TaskPool::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return jobs_.size();
}

void TaskPool::Worker() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    if (stopping_) break;
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    ++running_;
    lock.unlock();
    job();
    job = nullptr;
    lock.lock();
    --running_;
  }
  --alive_;
  done_cv_.notify_all();
}

bool TaskPool::Shutdown(std::chrono::milliseconds deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  stopping_ = true;
  jobs_.clear();
  cv_.notify_all();
  bool all = done_cv_.wait_for(lock, deadline, [&] { return alive_ == 0; });
  lock.unlock();
  for (auto& t : threads_) {
    if (!t.joinable()) continue;
    if (all) t.join();
    else t.detach();
  }
  threads_.clear();
  return all;
}

}  // namespace stash::apiserver
