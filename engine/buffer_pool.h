// BufferPool: recycled buffers (the backup's chunks, the restore's reads).
// A fresh 9 MiB buffer per chunk or read would cost a page fault, a kernel
// clear and a memset per page every time; a bounded pool keeps memory flat
// as well.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <vector>

#include "base/bytes.h"
#include "engine/chunker.h"

namespace stash {

class BufferPool {
 public:
  // The backup's defaults: room for one chunk of the largest size plus one
  // read, and idle buffers keep their first 2 MiB of pages. The archiver
  // may have written up to one read past a buffer's size (it splits a chunk
  // off the end of what it read).
  static constexpr size_t kReadSize = 1 << 20;
  static constexpr size_t kKeepTouched = 2 << 20;

  struct Options {
    size_t max_idle = 1;                          // at most this many buffers wait
    size_t reserve = kChunkMaxSize + kReadSize;   // what a new buffer reserves
    size_t keep_touched = kKeepTouched;           // bytes of pages an idle one keeps
    size_t written_past = kReadSize;              // how far past size() a user may have written
    // Get returns a buffer with the size (and bytes) it was put back with,
    // for a user that resizes it to what it reads over: growing a vector
    // zeroes the new part, which would be a memset of every read.
    bool keep_size = false;
  };
  explicit BufferPool(size_t max_idle) : BufferPool(Options{.max_idle = max_idle}) {}
  explicit BufferPool(const Options& options) : options_(options) {}

  Bytes Get() {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.empty()) {
      Bytes b;
      b.reserve(options_.reserve);
      return b;
    }
    Bytes b = std::move(idle_.back());
    idle_.pop_back();
    return b;
  }
  void Put(Bytes b) {
    // A buffer that held a large chunk keeps its first pages only: idle
    // buffers would otherwise pin up to 9 MiB each. Only pages that can
    // have been touched are given back: madvise on a multi-threaded
    // process flushes every core's TLB, which cost a small file's backup
    // more than reading it. (A kept size past them reads as zeros.)
    const size_t touched = std::min(b.capacity(), b.size() + options_.written_past);
    if (touched > options_.keep_touched) {
      uintptr_t base = reinterpret_cast<uintptr_t>(b.data());
      uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
      uintptr_t start = (base + options_.keep_touched + page - 1) & ~(page - 1);
      uintptr_t end = (base + touched + page - 1) & ~(page - 1);
      end = std::min(end, (base + b.capacity()) & ~(page - 1));
      if (end > start) ::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED);
    }
    if (!options_.keep_size) b.clear();
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < options_.max_idle) idle_.push_back(std::move(b));
  }

 private:
  std::mutex mu_;
  std::vector<Bytes> idle_;
  const Options options_;
};

}  // namespace stash
