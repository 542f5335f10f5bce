// LoadInOrder: many independent loads (reads of small files from a
// backend) run a few at a time, their results consumed one by one in index
// order on the calling thread.
//
// Reading a repository's snapshot or index files one after another costs a
// round trip each; on a remote backend that, not bandwidth, is the time.
// Running up to `width` loads at once hides the latency, while consuming
// in order keeps the outcome as a serial loop would have it: the same
// order, the first error by index, and no more than `width` results held
// beside what the consumer keeps.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "base/result.h"
#include "base/thread_pool.h"

namespace stash {

// What LoadInOrder does with one load at a time: on the caller's thread.
template <class T>
Status LoadOneByOne(size_t n, const std::function<Result<T>(size_t)>& load,
                    const std::function<Status(size_t, T&&)>& consume) {
  for (size_t i = 0; i < n; ++i) {
    Result<T> got = load(i);
    if (!got.ok()) return got.error();
    STASH_RETURN_IF_ERROR(consume(i, std::move(*got)));
  }
  return Status::Ok();
}

// Calls load(i) for i in [0, n), up to `width` at once on `pool`'s
// threads, and consume(i, value) on the caller's thread in order of i. Stops
// at the first failed load or consume and returns its error; loads not yet
// started are then skipped. Returns once none of its loads runs any more.
// `load` must be safe to call from several threads at once. For callers
// that load in many small rounds (a walk of trees), so threads are not made
// anew for each; `pool` must not be one of the calling thread's own.
template <class T>
Status LoadInOrder(size_t n, size_t width, ThreadPool& pool, const std::function<Result<T>(size_t)>& load,
                   const std::function<Status(size_t, T&&)>& consume) {
  if (width < 2 || n < 2) return LoadOneByOne<T>(n, load, consume);
  std::vector<std::optional<Result<T>>> done(n);
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<bool> stop{false};
  size_t running = 0;  // started and not finished, under mu
  auto start = [&](size_t i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      ++running;
    }
    pool.Submit([&, i] {
      std::optional<Result<T>> got;
      if (!stop.load()) got.emplace(load(i));
      std::lock_guard<std::mutex> lock(mu);
      if (got) {
        done[i] = std::move(*got);
      } else {
        done[i].emplace(Invalid("skipped after an earlier failure"));
      }
      --running;
      cv.notify_all();
    });
  };
  size_t next = 0;
  for (; next < std::min(width, n); ++next) start(next);
  Status status = Status::Ok();
  for (size_t i = 0; i < n && status.ok(); ++i) {
    std::optional<Result<T>> got;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return done[i].has_value(); });
      got = std::move(done[i]);
      done[i].reset();
    }
    if (!got->ok()) {
      status = got->error();
      break;
    }
    if (next < n) start(next++);
    status = consume(i, std::move(**got));
  }
  stop.store(true);
  // The jobs still queued or running use the locals above.
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return running == 0; });
  return status;
}

// The same on threads of its own, made for this call.
template <class T>
Status LoadInOrder(size_t n, size_t width, const std::function<Result<T>(size_t)>& load,
                   const std::function<Status(size_t, T&&)>& consume) {
  if (width < 2 || n < 2) return LoadOneByOne<T>(n, load, consume);
  ThreadPool pool(std::min(width, n));
  return LoadInOrder<T>(n, width, pool, load, consume);
}

}  // namespace stash
