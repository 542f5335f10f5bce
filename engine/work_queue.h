// WorkQueue: a fixed set of threads running jobs from a bounded queue.
//
// Submit blocks while the queue is full, which is what bounds memory in the
// backup pipeline: a reader cannot run ahead of the threads that compress
// and encrypt by more than `max_queued` chunks.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace stash {

class WorkQueue {
 public:
  enum class Order { kFifo, kLifo };
  // `max_queued` 0 means unbounded (for jobs that submit more jobs to the
  // same queue, which must never block). kLifo runs the newest job first.
  WorkQueue(size_t threads, size_t max_queued, Order order = Order::kFifo);
  // Finishes every queued job, then joins the threads.
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void Submit(std::function<void()> job);
  // Returns once every job submitted so far has finished.
  void Wait();

 private:
  void Worker();

  std::mutex mu_;
  std::condition_variable has_work_, has_room_, idle_;
  std::deque<std::function<void()>> jobs_;
  size_t max_queued_;
  Order order_;
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace stash
