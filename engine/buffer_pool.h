// BufferPool: chunk buffers for the backup, recycled. A fresh 9 MiB
// buffer per chunk would cost page faults on every chunk; a bounded pool
// keeps memory flat as well.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <mutex>
#include <vector>

#include "base/bytes.h"
#include "engine/chunker.h"

namespace stash {

class BufferPool {
 public:
  // Room for one chunk of the largest size plus one read.
  static constexpr size_t kReadSize = 1 << 20;
  static constexpr size_t kKeepTouched = 2 << 20;
  explicit BufferPool(size_t max_idle) : max_idle_(max_idle) {}
  Bytes Get() {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.empty()) {
      Bytes b;
      b.reserve(kChunkMaxSize + kReadSize);
      return b;
    }
    Bytes b = std::move(idle_.back());
    idle_.pop_back();
    return b;
  }
  void Put(Bytes b) {
    b.clear();
    // A buffer that held a large chunk keeps its first pages only: idle
    // buffers would otherwise pin up to 9 MiB each.
    if (b.capacity() > kKeepTouched) {
      uintptr_t base = reinterpret_cast<uintptr_t>(b.data()) + kKeepTouched;
      uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
      uintptr_t start = (base + page - 1) & ~(page - 1);
      uintptr_t end = (reinterpret_cast<uintptr_t>(b.data()) + b.capacity()) & ~(page - 1);
      if (end > start) ::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED);
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < max_idle_) idle_.push_back(std::move(b));
  }

 private:
  std::mutex mu_;
  std::vector<Bytes> idle_;
  size_t max_idle_;
};

}  // namespace stash
