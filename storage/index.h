// The index: which pack holds each blob, at which offset.
//
// Index files list packs and their blobs as JSON. In memory all index files
// are merged into one table keyed by (blob type, blob id). A blob may be in
// several packs; the first one seen is used for reading.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/id.h"
#include "storage/pack.h"

namespace stash {

// One pack and the blobs it holds, as an index file lists it.
struct IndexedPack {
  Id id;
  std::vector<PackedBlob> blobs;
};

struct IndexFile {
  std::vector<Id> supersedes;
  std::vector<IndexedPack> packs;
  bool old_format = false;  // a bare array of packs, from very old restic
};

// Compact JSON followed by "\n", as restic's index encoder writes it.
std::string EncodeIndexFile(const IndexFile& index);

// Reads both the current and the old (array) format. In a format 1
// repository compressed blobs are rejected, as restic rejects them.
Result<IndexFile> DecodeIndexFile(ByteView json, int repo_version);

// Where a blob is stored.
struct BlobLocation {
  Id pack;
  PackedBlob blob;
};

// All blobs of a repository by (type, id). Memory is the point: a
// repository of millions of blobs must fit beside a backup or a restore, so
// entries live in sorted arrays, not node-based hash maps. An entry is the
// blob id, a pack number (packs are kept once, in a side table) and three
// 32-bit numbers: kEntryBytes bytes per blob, plus at most a few percent of
// slack while blobs are being added. Entries sit in kBuckets sorted arrays
// chosen by the id's first 12 bits (ids are uniform, so the buckets fill
// evenly); new entries first go to a small sorted tail that is merged into
// the buckets once it holds 1/16 of them, each bucket rebuilt at its exact
// size, so adding never doubles anything. Lookups are binary searches.
// Not thread-safe; Repository guards it.
class Index {
 public:
  static constexpr size_t kBuckets = 4096;

  // Adds the pack's blobs; a blob the index already has keeps its first
  // location.
  void AddPack(const Id& pack, const std::vector<PackedBlob>& blobs);

  std::optional<BlobLocation> Lookup(BlobType type, const Id& id) const;
  bool Has(BlobType type, const Id& id) const;

  size_t BlobCount() const { return count_[0] + count_[1]; }
  size_t PackCount() const { return packs_.size(); }
  const std::vector<Id>& Packs() const { return packs_; }

  // Heap bytes the index holds (its arrays' capacities and the pack table).
  size_t MemoryBytes() const;

  // 32 bytes of id and four 32-bit numbers.
  struct Entry {
    Id id;
    uint32_t pack;
    uint32_t offset;
    uint32_t length;
    uint32_t uncompressed_length;
  };
  static constexpr size_t kEntryBytes = sizeof(Entry);

 private:
  struct Table {
    std::vector<std::vector<Entry>> buckets = std::vector<std::vector<Entry>>(kBuckets);
    std::vector<Entry> tail;  // sorted by id, merged into the buckets when large
  };
  Table& TableFor(BlobType type) { return tables_[type == BlobType::kTree ? 1 : 0]; }
  const Table& TableFor(BlobType type) const { return tables_[type == BlobType::kTree ? 1 : 0]; }
  const Entry* Find(const Table& table, const Id& id) const;
  void MergeTail(Table& table);

  std::vector<Id> packs_;
  std::unordered_map<Id, uint32_t> pack_numbers_;
  Table tables_[2];       // data, tree
  size_t count_[2] = {};  // entries per table, buckets and tail
};

}  // namespace stash
