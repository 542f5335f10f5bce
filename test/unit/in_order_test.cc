// LoadInOrder: loads overlap, results come in index order, the first error
// by index wins and stops what has not started.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "base/in_order.h"

using namespace stash;

namespace {

struct Gauge {
  std::atomic<int> now{0}, most{0}, started{0};
  void Enter() {
    started++;
    int n = ++now;
    int m = most.load();
    while (n > m && !most.compare_exchange_weak(m, n)) {}
  }
  void Leave() { --now; }
};

}  // namespace

TEST_CASE("LoadInOrder overlaps loads and consumes them in order", "[in_order]") {
  Gauge gauge;
  std::vector<size_t> seen;
  const size_t n = 24;
  Status s = LoadInOrder<std::string>(
      n, 4,
      [&](size_t i) -> Result<std::string> {
        gauge.Enter();
        // Later loads finish first within each group of four.
        std::this_thread::sleep_for(std::chrono::milliseconds(2 * (4 - i % 4)));
        gauge.Leave();
        return std::to_string(i);
      },
      [&](size_t i, std::string&& v) {
        CHECK(v == std::to_string(i));
        seen.push_back(i);
        return Status::Ok();
      });
  REQUIRE(s.ok());
  REQUIRE(seen.size() == n);
  for (size_t i = 0; i < n; ++i) CHECK(seen[i] == i);
  CHECK(gauge.most.load() > 1);   // they did overlap
  CHECK(gauge.most.load() <= 4);  // and never more than the width
}

TEST_CASE("LoadInOrder returns the first failure by index and starts no more", "[in_order]") {
  Gauge gauge;
  std::vector<size_t> seen;
  const size_t n = 1000;
  Status s = LoadInOrder<int>(
      n, 3,
      [&](size_t i) -> Result<int> {
        gauge.Enter();
        // 9 fails slowly, 11 at once: 9's error is the one reported.
        if (i == 9) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        gauge.Leave();
        if (i == 9 || i == 11) return Corrupt("file " + std::to_string(i));
        return static_cast<int>(i);
      },
      [&](size_t i, int&&) {
        seen.push_back(i);
        return Status::Ok();
      });
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message() == "file 9");
  CHECK(seen.size() == 9);
  CHECK(gauge.started.load() <= 9 + 3);  // what ran ahead, never the rest

  SECTION("a consumer's failure stops it too") {
    int calls = 0;
    Status c = LoadInOrder<int>(
        n, 3, [](size_t i) -> Result<int> { return static_cast<int>(i); },
        [&](size_t i, int&&) {
          ++calls;
          return i == 4 ? Status(Conflict("enough")) : Status::Ok();
        });
    CHECK(c.error().message() == "enough");
    CHECK(calls == 5);
  }
}

TEST_CASE("LoadInOrder with nothing, or one at a time, runs on the caller's thread", "[in_order]") {
  auto here = std::this_thread::get_id();
  int consumed = 0;
  auto load = [&](size_t i) -> Result<size_t> {
    CHECK(std::this_thread::get_id() == here);
    return i;
  };
  auto consume = [&](size_t, size_t&&) {
    ++consumed;
    return Status::Ok();
  };
  CHECK(LoadInOrder<size_t>(0, 8, load, consume).ok());
  CHECK(LoadInOrder<size_t>(5, 1, load, consume).ok());
  CHECK(LoadInOrder<size_t>(1, 8, load, consume).ok());
  CHECK(consumed == 6);
}

TEST_CASE("LoadInOrder on a pool of the caller's: rounds reuse it, and none outlives its call",
          "[in_order]") {
  ThreadPool pool(4);
  std::atomic<int> running{0};
  std::vector<std::thread::id> threads;
  std::mutex mu;
  auto load = [&](size_t i) -> Result<size_t> {
    ++running;
    {
      std::lock_guard<std::mutex> lock(mu);
      threads.push_back(std::this_thread::get_id());
    }
    // The failing load is quick; the others are still running when it is consumed.
    if (i != 1) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    --running;
    if (i == 1) return Corrupt("tree 1");
    return i;
  };
  size_t consumed = 0;
  auto consume = [&](size_t, size_t&&) {
    ++consumed;
    return Status::Ok();
  };
  for (int round = 0; round < 20; ++round) {
    Status s = LoadInOrder<size_t>(4, 4, pool, load, consume);
    CHECK(s.error().message() == "tree 1");
    // What it started has finished before it returned: the loads use its locals.
    CHECK(running.load() == 0);
  }
  CHECK(consumed == 20);  // load 0 of each round, then 1 failed
  std::sort(threads.begin(), threads.end());
  threads.erase(std::unique(threads.begin(), threads.end()), threads.end());
  CHECK(threads.size() <= 4);  // the pool's threads, not new ones per round
  CHECK_FALSE(std::count(threads.begin(), threads.end(), std::this_thread::get_id()));
}
