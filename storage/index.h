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

class Index {
 public:
  void AddPack(const Id& pack, const std::vector<PackedBlob>& blobs);

  std::optional<BlobLocation> Lookup(BlobType type, const Id& id) const;
  bool Has(BlobType type, const Id& id) const;

  size_t BlobCount() const { return data_.size() + tree_.size(); }
  size_t PackCount() const { return packs_.size(); }
  const std::vector<Id>& Packs() const { return packs_; }

 private:
  // 4 + 4 + 4 + 4 bytes per blob besides its id: packs are referred to by
  // number, so 10^7 blobs fit in well under a gigabyte.
  struct Entry {
    uint32_t pack;
    uint32_t offset;
    uint32_t length;
    uint32_t uncompressed_length;
  };
  using Map = std::unordered_map<Id, Entry>;
  Map& MapFor(BlobType type) { return type == BlobType::kTree ? tree_ : data_; }
  const Map& MapFor(BlobType type) const { return type == BlobType::kTree ? tree_ : data_; }

  std::vector<Id> packs_;
  std::unordered_map<Id, uint32_t> pack_numbers_;
  Map data_, tree_;
};

}  // namespace stash
