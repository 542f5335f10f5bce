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
#include "storage/blob_table.h"
#include "storage/index_file.h"
#include "storage/pack.h"

namespace stash {

// Where a blob is stored.
struct BlobLocation {
  Id pack;
  PackedBlob blob;
};

// What an Index keeps of each data blob. A backup only asks whether a
// data blob is stored (it reads trees, never data), so it can drop their
// locations and keep 32 bytes per data blob instead of kEntryBytes.
enum class IndexDetail { kLocations, kDataIdsOnly };

// All blobs of a repository by (type, id). Memory is the point: a
// repository of millions of blobs must fit beside a backup or a restore, so
// entries live in BlobTables (sorted page arrays, not node-based hash maps):
// the blob id, a pack number (packs are kept once, in a side table) and
// three 32-bit numbers, kEntryBytes bytes per blob (kIdBytes for a data
// blob under kDataIdsOnly), plus less than a page per bucket. A table of
// more than the spill size (kSpillAbove unless told) moves its entries to
// a temporary file and keeps 12 bytes per blob in memory; lookups stay
// exact and cost a read from the page cache. Const methods may run on
// several threads at once; a change needs the index to itself (Repository
// guards it with a shared lock).
class Index {
 public:
  // Entries per table past which it spills: 12 MiB of located entries.
  static constexpr size_t kSpillAbove = size_t{1} << 18;

  explicit Index(IndexDetail detail = IndexDetail::kLocations, size_t spill_above = kSpillAbove);
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

  // Data blobs, under either detail.
  size_t DataCount() const { return tables_[0].size() + data_ids_.size(); }
  size_t BlobCount() const { return DataCount() + tables_[1].size() + new_tree_ids_.size(); }
  size_t PackCount() const { return packs_.size(); }
  const std::vector<Id>& Packs() const { return packs_; }

  // Bytes the index holds in memory (its arrays' pages and the pack table).
  size_t MemoryBytes() const;

  using Entry = LocatedEntry;
  using IdEntry = IdOnlyEntry;  // a data blob under kDataIdsOnly
  static constexpr size_t kEntryBytes = sizeof(Entry);
  static constexpr size_t kIdBytes = sizeof(IdEntry);

 private:
  bool IdsOnly(BlobType type) const {
    return type == BlobType::kData && detail_ == IndexDetail::kDataIdsOnly;
  }
  BlobTable<Entry>& TableFor(BlobType type) { return tables_[type == BlobType::kTree ? 1 : 0]; }
  const BlobTable<Entry>& TableFor(BlobType type) const { return tables_[type == BlobType::kTree ? 1 : 0]; }
  void AddLocated(BlobType type, uint32_t pack, const std::vector<PackedBlob>& blobs);
  void AddIds(BlobType type, BlobTable<IdEntry>& table, const std::vector<PackedBlob>& blobs);
  uint32_t PackNumber(const Id& pack);
  // Numbers the pack and widens its extent to cover `blobs`.
  uint32_t NotePack(const Id& pack, const std::vector<PackedBlob>& blobs);

  IndexDetail detail_;
  std::vector<Id> packs_;
  std::unordered_map<Id, uint32_t> pack_numbers_;
  std::vector<PackExtent> extents_;  // by pack number
  BlobTable<Entry> tables_[2];       // data, tree
  BlobTable<IdEntry> data_ids_;      // data under kDataIdsOnly
  BlobTable<IdEntry> new_tree_ids_;  // trees AddNewPack added under kDataIdsOnly
};

}  // namespace stash
