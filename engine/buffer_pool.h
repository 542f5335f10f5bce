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
  // At most `max_idle` buffers wait; a new one reserves `reserve` bytes; an
  // idle one keeps at most `keep_touched` bytes of pages. `written_past`:
  // how far past size() a user may have written into a buffer it puts back.
  explicit BufferPool(size_t max_idle, size_t reserve = kChunkMaxSize + kReadSize,
                      size_t keep_touched = kKeepTouched, size_t written_past = kReadSize)
      : max_idle_(max_idle), reserve_(reserve), keep_touched_(keep_touched), written_past_(written_past) {}
  Bytes Get() {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.empty()) {
      Bytes b;
      b.reserve(reserve_);
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
    // more than reading it.
    const size_t touched = std::min(b.capacity(), b.size() + written_past_);
    if (touched > keep_touched_) {
      uintptr_t base = reinterpret_cast<uintptr_t>(b.data());
      uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
      uintptr_t start = (base + keep_touched_ + page - 1) & ~(page - 1);
      uintptr_t end = (base + touched + page - 1) & ~(page - 1);
      end = std::min(end, (base + b.capacity()) & ~(page - 1));
      if (end > start) ::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED);
    }
    b.clear();
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < max_idle_) idle_.push_back(std::move(b));
  }

 private:
  std::mutex mu_;
  std::vector<Bytes> idle_;
  size_t max_idle_;
  size_t reserve_;
  size_t keep_touched_;
  size_t written_past_;
};

}  // namespace stash
