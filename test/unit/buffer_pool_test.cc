// BufferPool: idle buffers give their pages back beyond what they keep.
#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <vector>

#include "engine/buffer_pool.h"

using namespace stash;

namespace {

// Resident pages of [data, data + size), by mincore.
size_t ResidentPages(const uint8_t* data, size_t size) {
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t start = reinterpret_cast<uintptr_t>(data) & ~(page - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(data) + size;
  std::vector<unsigned char> in((end - start + page - 1) / page);
  REQUIRE(::mincore(reinterpret_cast<void*>(start), end - start, in.data()) == 0);
  size_t n = 0;
  for (unsigned char c : in) n += c & 1;
  return n;
}

}  // namespace

TEST_CASE("an idle pooled buffer keeps only its first pages, also of what was written past its size") {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t keep = 2 << 20, past = 1 << 20;
  BufferPool pool({.max_idle = 1, .reserve = 9 << 20, .keep_touched = keep, .written_past = past});
  Bytes b = pool.Get();
  b.resize(8 << 20, 1);         // touches 8 MiB
  b.resize((8 << 20) - past);   // as the archiver leaves a buffer it split a chunk off
  const uint8_t* data = b.data();
  REQUIRE(ResidentPages(data, 8 << 20) * page >= (8 << 20));
  pool.Put(std::move(b));
  Bytes again = pool.Get();
  REQUIRE(again.data() == data);
  CHECK(again.empty());
  // What was touched past the first `keep` bytes is given back (pages past
  // that which the allocator may have touched itself, as MALLOC_PERTURB_
  // makes it, are not the pool's to know of).
  CHECK(ResidentPages(data + keep + page, (8 << 20) - keep - 2 * page) == 0);
  CHECK(ResidentPages(data, keep) * page >= keep);

  // A buffer used within what it keeps goes back whole.
  again.resize(keep / 2, 2);
  pool.Put(std::move(again));
  Bytes third = pool.Get();
  CHECK(third.data() == data);
  CHECK(ResidentPages(data, keep / 2) * page >= keep / 2);
}

TEST_CASE("a pool that keeps sizes hands back a buffer as it was put back") {
  BufferPool pool({.max_idle = 1, .reserve = 1 << 20, .keep_touched = 2 << 20, .written_past = 0,
                   .keep_size = true});
  Bytes b = pool.Get();
  CHECK(b.empty());
  CHECK(b.capacity() >= (1 << 20));
  b.assign(1000, 7);
  const uint8_t* data = b.data();
  pool.Put(std::move(b));
  Bytes again = pool.Get();
  CHECK(again.data() == data);
  REQUIRE(again.size() == 1000);
  CHECK(again[999] == 7);
}
