// PackCache: whole packs kept in memory for a reader of many small blobs.
//
// A restore reads every tree of a snapshot, one after another, each a few
// hundred bytes; over S3 that is a request per folder, each paying the
// round trip. Trees live in packs of their own (a backup writes trees and
// data to separate packs), so the walk can instead fetch a tree pack once,
// whole, and take its next trees from memory. The cache holds the packs
// read last, up to a byte budget, and drops the least recently used first.
// Thread-safe; a pack is read without the lock held, so two threads that
// miss the same pack at once may both read it.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_set>
#include <utility>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/id.h"

namespace stash {

class PackCache {
 public:
  explicit PackCache(uint64_t max_bytes) : max_bytes_(max_bytes) {}

  // The first `length` bytes of `pack`: from the cache, or from `read` (which
  // must return exactly that many bytes). Null when `length` is over the
  // budget or `read` failed or came back short; the caller then reads what it
  // needs on its own, and reports that read's error. A pack whose read
  // failed once is not tried again.
  std::shared_ptr<const Bytes> Get(const Id& pack, uint64_t length,
                                   const std::function<Result<Bytes>()>& read);

 private:
  using Entry = std::pair<Id, std::shared_ptr<const Bytes>>;
  const uint64_t max_bytes_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_set<Id> failed_;
  uint64_t bytes_ = 0;
};

}  // namespace stash
