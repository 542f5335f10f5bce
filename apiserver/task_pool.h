// TaskPool: a fixed set of threads running queued jobs. Request handlers
// that may block on backends and the backend work itself run on pools, so
// network threads never wait on storage.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace stash::apiserver {

class TaskPool {
 public:
  explicit TaskPool(size_t threads);
  // Shutdown() without a deadline: waits for running jobs.
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  // Queues a job; dropped once the pool is shutting down.
  void Post(std::function<void()> job);
  // Drops queued jobs and waits up to `deadline` for running ones. Returns
  // false if some job is still running (stuck on a hung backend): its
  // thread is then left behind and the process should exit promptly.
  bool Shutdown(std::chrono::milliseconds deadline = std::chrono::hours(24 * 365));
  size_t queued() const;

 private:
  void Worker();

  mutable std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  std::deque<std::function<void()>> jobs_;
  size_t running_ = 0;
  size_t alive_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace stash::apiserver
