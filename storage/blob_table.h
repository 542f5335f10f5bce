// BlobTable: the blobs of one kind an Index knows, by id, in sorted arrays;
// past a size, kept in a temporary file with a small key per blob in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "crypto/id.h"
#include "storage/page_array.h"

namespace stash {

// A blob with its location: the id, a pack number (the Index numbers
// packs) and three 32-bit numbers.
struct LocatedEntry {
  Id id;
  uint32_t pack;
  uint32_t offset;
  uint32_t length;
  uint32_t uncompressed_length;
};

// A blob known by id alone.
struct IdOnlyEntry {
  Id id;
};

// The key a spilled table keeps in memory for each entry: the id's first 8
// bytes and where the whole entry is in the file. Two 32-bit halves keep
// it at 12 bytes.
struct SpillKey {
  uint32_t hi;
  uint32_t lo;
  uint32_t record;
  uint64_t prefix() const { return uint64_t{hi} << 32 | lo; }
};

inline constexpr size_t kBlobBuckets = 256;

// Elements sorted by key in kBlobBuckets page arrays, chosen by the blob
// id's first byte, and a sorted tail not yet merged into them.
template <typename S>
struct SortedBuckets {
  PageArray<S> buckets[kBlobBuckets];
  PageArray<S> tail;
  size_t before[kBlobBuckets + 1] = {};  // elements in the buckets before each one
};

// Entries of type E (LocatedEntry or IdOnlyEntry) sorted by id in kBlobBuckets
// page arrays chosen by the id's first byte (ids are uniform, so buckets
// fill evenly), plus a small sorted tail merged into them once it holds
// 1/16 of them: adding never copies the table or leaves holes in the heap.
//
// A table that grows past its spill size moves its entries into an
// unnamed temporary file (in $TMPDIR, else /tmp) and keeps only a SpillKey
// per entry in memory: 12 bytes instead of sizeof(E). A lookup then
// compares prefixes in memory and reads the few candidates back (one
// pread of sizeof(E) from the page cache) to compare whole ids, so the
// answers are exact. Where no file can be made or written, the table
// stays in (or returns to) memory: it costs memory, never entries.
//
// Not thread-safe for writers; const methods may run concurrently.
template <typename E>
class BlobTable {
 public:
  BlobTable() = default;
  BlobTable(BlobTable&& other) noexcept { Swap(other); }
  BlobTable& operator=(BlobTable&& other) noexcept {
    Swap(other);
    return *this;
  }
  BlobTable(const BlobTable&) = delete;
  BlobTable& operator=(const BlobTable&) = delete;
  ~BlobTable();

  // Spill once the table holds more than `entries` entries (0: never).
  void SpillAbove(size_t entries) { spill_above_ = entries; }

  // Adds `fresh`, whose ids the table must not hold yet; of an id listed
  // twice the first entry is kept. Returns how many entries were added.
  size_t Add(std::vector<E> fresh);

  std::optional<E> Find(const Id& id) const;
  bool Contains(const Id& id) const { return Find(id).has_value(); }
  // Where the entry stands among the table's: 0 .. size() - 1, a
  // different number for each entry, holding until the next Add.
  std::optional<size_t> Position(const Id& id) const;

  size_t size() const { return size_; }
  bool spilled() const { return fd_ >= 0; }
  // Bytes held in memory: the arrays' pages (not the file's).
  size_t MemoryBytes() const;

 private:
  void Swap(BlobTable& other) noexcept;
  bool AddSpilled(const std::vector<E>& fresh);
  bool Spill();
  void Unspill();
  bool ReadRecord(uint32_t record, E* out) const;
  const E* FindEntry(const Id& id) const;  // in memory
  const SpillKey* FindKey(const Id& id, E* out) const;  // spilled

  SortedBuckets<E> entries_;        // while in memory
  SortedBuckets<SpillKey> keys_;    // once spilled
  int fd_ = -1;
  size_t size_ = 0;
  size_t spill_above_ = 0;
  bool spill_failed_ = false;
};

extern template class BlobTable<LocatedEntry>;
extern template class BlobTable<IdOnlyEntry>;

}  // namespace stash
