// ThreadPool: a fixed set of threads running queued jobs; the one pool
// type of the project.
//
// The backup pipeline bounds its memory with `max_queued`: Submit blocks
// while the queue is full, so a reader cannot run ahead of the threads that
// compress and encrypt. The apiserver runs request handlers and backend
// work on unbounded pools, so network threads never wait on storage, and
// stops them with a deadline, since a job may hang on a dead backend. Its
// network threads hand reviews to a bounded pool with TrySubmit, which
// refuses instead of blocking, so a flood is answered "busy" at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace stash {

class ThreadPool {
 public:
  enum class Order { kFifo, kLifo };
  // `max_queued` 0 means unbounded (for jobs that submit more jobs to the
  // same pool, which must never block). kLifo runs the newest job first.
  explicit ThreadPool(size_t threads, size_t max_queued = 0, Order order = Order::kFifo);
  // Unless Shutdown() was called: finishes every queued job, then joins.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Queues a job, blocking while the queue is full. Dropped after Shutdown().
  void Submit(std::function<void()> job);
  // Queues a job unless the queue is full or the pool shut down; never
  // blocks. False when the job was not queued (it is dropped).
  bool TrySubmit(std::function<void()> job);
  // Returns once every job submitted so far has finished.
  void Wait();
  // Drops queued jobs and waits up to `deadline` for running ones. Returns
  // false if some job is still running (stuck on a hung backend): its
  // thread is then left behind and the process should exit promptly.
  bool Shutdown(std::chrono::milliseconds deadline = std::chrono::hours(24 * 365));
  size_t queued() const;

 private:
  void Worker();
  std::function<void()> Take();

  mutable std::mutex mu_;
  std::condition_variable has_work_, has_room_, idle_, exited_;
  std::deque<std::function<void()>> jobs_;
  size_t max_queued_;
  Order order_;
  size_t running_ = 0;
  size_t alive_ = 0;
  bool stopping_ = false;  // no new jobs; workers exit once the queue is empty
  std::vector<std::thread> threads_;
};

}  // namespace stash
