// The index: which pack holds each blob, at which offset.
//
// Index files list packs and their blobs as JSON. In memory all index files
// are merged into one table keyed by (blob type, blob id). A blob may be in
// several packs; the first one seen is used for reading.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/id.h"
#include "storage/index_file.h"
#include "storage/pack.h"

namespace stash {

// Where a blob is stored.
struct BlobLocation {
  Id pack;
  PackedBlob blob;
};

// An array of trivially copyable T in its own pages, grown and shrunk in
// place (mremap) rather than copied: growing never holds two copies, and
// freed pages go back to the system instead of fragmenting the heap.
template <typename T>
class PageArray {
 public:
  PageArray() = default;
  PageArray(PageArray&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)),
        bytes_(std::exchange(other.bytes_, 0)) {}
  PageArray& operator=(PageArray&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(bytes_, other.bytes_);
    return *this;
  }
  ~PageArray() { Release(); }

  T* data() { return data_; }
  const T* data() const { return data_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity_bytes() const { return bytes_; }

  // New elements are zero (fresh pages); std::bad_alloc when the system
  // has no memory, as a vector would throw.
  void resize(size_t n);
  void clear() { Release(); }

 private:
  void Release();
  T* data_ = nullptr;
  size_t size_ = 0;
  size_t bytes_ = 0;
};

// What an Index keeps of each data blob. A backup only asks whether a
// data blob is stored (it reads trees, never data), so it can drop their
// locations and keep 32 bytes per data blob instead of kEntryBytes.
enum class IndexDetail { kLocations, kDataIdsOnly };

// All blobs of a repository by (type, id). Memory is the point: a
// repository of millions of blobs must fit beside a backup or a restore, so
// entries live in sorted arrays, not node-based hash maps. An entry is the
// blob id, a pack number (packs are kept once, in a side table) and three
// 32-bit numbers: kEntryBytes bytes per blob (kIdBytes for a data blob
// under kDataIdsOnly), plus less than a page per bucket. Entries sit in
// kBuckets sorted arrays chosen by the id's first byte (ids are uniform, so
// the buckets fill evenly); new entries first go to a small sorted tail that
// is merged into the buckets once it holds 1/16 of them, each bucket grown
// in place and merged from its end, so adding never copies the index or
// leaves holes in the heap. Lookups are binary searches. Not thread-safe;
// Repository guards it.
class Index {
 public:
  static constexpr size_t kBuckets = 256;

  explicit Index(IndexDetail detail = IndexDetail::kLocations) : detail_(detail) {}
  IndexDetail detail() const { return detail_; }

  // Adds the pack's blobs; a blob the index already has keeps its first
  // location.
  void AddPack(const Id& pack, const std::vector<PackedBlob>& blobs);
  // The same for a pack this process has just stored. Under kDataIdsOnly
  // its trees, too, are kept by id alone (a backup never reads back a tree
  // it wrote, and a backup of many small folders writes as many trees as
  // files): Has finds them, Lookup does not.
  void AddNewPack(const Id& pack, const std::vector<PackedBlob>& blobs);

  // Under kDataIdsOnly, a data blob's location is unknown: nullopt, as for
  // a blob the index lacks (Has tells the two apart).
  std::optional<BlobLocation> Lookup(BlobType type, const Id& id) const;
  bool Has(BlobType type, const Id& id) const;

  // A dense number for each blob: data blobs 0 .. data count - 1, then the
  // trees (those kept by id alone last), so a caller can keep a bit per blob in a vector<bool> instead of
  // a set of ids. Numbers hold until the next AddPack.
  std::optional<size_t> Ordinal(BlobType type, const Id& id) const;

  // What the index files say of a pack as a whole: where its last blob
  // ends (its header follows) and whether any of its blobs are data. A
  // reader of many trees can fetch a tree-only pack in one request.
  struct PackExtent {
    uint64_t blobs_end = 0;
    bool has_data = false;
  };
  std::optional<PackExtent> Extent(const Id& pack) const;

  size_t BlobCount() const { return count_[0] + count_[1] + new_tree_ids_count_; }
  size_t PackCount() const { return packs_.size(); }
  const std::vector<Id>& Packs() const { return packs_; }

  // Bytes the index holds (its arrays' pages and the pack table).
  size_t MemoryBytes() const;

  // 32 bytes of id and four 32-bit numbers.
  struct Entry {
    Id id;
    uint32_t pack;
    uint32_t offset;
    uint32_t length;
    uint32_t uncompressed_length;
  };
  // A data blob under kDataIdsOnly.
  struct IdEntry {
    Id id;
  };
  static constexpr size_t kEntryBytes = sizeof(Entry);
  static constexpr size_t kIdBytes = sizeof(IdEntry);

 private:
  template <typename E>
  struct Table {
    PageArray<E> buckets[kBuckets];
    PageArray<E> tail;  // sorted by id, merged into the buckets when large
    size_t before[kBuckets + 1] = {};  // entries in the buckets before each one
  };
  bool IdsOnly(BlobType type) const {
    return type == BlobType::kData && detail_ == IndexDetail::kDataIdsOnly;
  }
  Table<Entry>& TableFor(BlobType type) { return tables_[type == BlobType::kTree ? 1 : 0]; }
  const Table<Entry>& TableFor(BlobType type) const { return tables_[type == BlobType::kTree ? 1 : 0]; }
  template <typename E>
  size_t AddFresh(Table<E>& table, size_t count, std::vector<E> fresh);
  void AddLocated(BlobType type, uint32_t pack, const std::vector<PackedBlob>& blobs);
  void AddIds(BlobType type, Table<IdEntry>& table, size_t& count, const std::vector<PackedBlob>& blobs);
  uint32_t PackNumber(const Id& pack);
  // Numbers the pack and widens its extent to cover `blobs`.
  uint32_t NotePack(const Id& pack, const std::vector<PackedBlob>& blobs);

  IndexDetail detail_;
  std::vector<Id> packs_;
  std::unordered_map<Id, uint32_t> pack_numbers_;
  std::vector<PackExtent> extents_;  // by pack number
  Table<Entry> tables_[2];  // data, tree
  Table<IdEntry> data_ids_;  // data under kDataIdsOnly
  Table<IdEntry> new_tree_ids_;  // trees AddNewPack added under kDataIdsOnly
  size_t count_[2] = {};     // entries per type, buckets and tail
  size_t new_tree_ids_count_ = 0;
};

}  // namespace stash
