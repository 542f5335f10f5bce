// Checker: finds what restic 0.14's `check` finds, and names each object.
//
// A check runs in the phases restic prints, each returning its findings:
//
//   LoadIndex       every index file loads and decodes. Later phases rely on
//                   the index, so the caller stops on errors here, as restic.
//   CheckPacks      data/ and the index agree: every indexed pack exists with
//                   the size its entries imply, its blobs lie back to back
//                   from offset 0 (restic checks this only with --read-data;
//                   it needs no download, so we always do).
//   CheckStructure  every snapshot loads; every tree reachable from them
//                   loads, decodes and has sane nodes; every data blob and
//                   subtree they name is in the index.
//   ReadPacks       (--read-data) downloads packs: sha256 == name, the header
//                   decrypts and matches the index, every blob decrypts,
//                   decompresses and hashes to its id.
//
// Errors fail the check. Notes are what restic reports as non-critical:
// packs no index lists, a pack in several index files, old-format indexes,
// packs mixing tree and data blobs. See docs/repository-format.md, 9.3.
//
// The checker reads index files itself instead of using Repository's Index,
// which keeps only the first location of each blob: check must see every
// entry of every pack, duplicates included. restic 0.14 runs check under an
// exclusive lock (a concurrent prune would make packs vanish mid-check); the
// caller takes it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/result.h"
#include "storage/repository.h"

namespace stash {

// What one phase found; every message names the pack, index, snapshot, tree
// or blob involved, with its full id.
struct CheckFindings {
  std::vector<std::string> errors;
  std::vector<std::string> notes;

  void Append(CheckFindings other);
};

// Which packs --read-data-subset reads, as restic 0.14 defines it:
//   "n/t"   packs whose id's first byte % t == n-1 (t <= 256), so running
//           1/t .. t/t reads every pack exactly once
//   "x%"    a random x percent of the packs (at least one)
//   "SIZE"  random packs worth SIZE bytes ("500M"; suffix b/k/m/g/t, 1024-based)
struct ReadDataSubset {
  enum class Kind { kAll, kGroup, kPercent, kBytes };
  Kind kind = Kind::kAll;
  uint32_t group = 1, groups = 1;
  double percent = 100;
  uint64_t bytes = 0;
};

// kInvalid with restic's message for values restic refuses (a bare number,
// 0/2, 3/2, 1/300, 0%, 101%, 0b, ...).
Result<ReadDataSubset> ParseReadDataSubset(std::string_view text);

// Decrypts one blob as stored in a pack, undoes compression and checks that
// the plaintext hashes to the blob's id. Messages name nothing; callers add
// the pack and blob.
Result<Bytes> OpenPackedBlob(const CryptoKey& key, ByteView sealed, const PackedBlob& blob);

class Checker {
 public:
  // `repo` must outlive the checker; only its backend, key and config are
  // used, plus LoadFile and LoadSnapshot from the calling thread.
  explicit Checker(Repository& repo) : repo_(repo) {}

  CheckFindings LoadIndex();
  CheckFindings CheckPacks();
  CheckFindings CheckStructure();

  // Indexed blobs that no tree reachable from a snapshot uses, as
  // "data <id>" / "tree <id>", sorted. Valid after CheckStructure.
  std::vector<std::string> UnusedBlobs() const;

  // Packs with at least one index entry, and the size those entries imply.
  size_t PackCount() const { return packs_.size(); }
  uint64_t TotalPackSize() const;

  // The packs a subset selects, sorted by id. `seed` drives the random
  // choice of the percent and size forms.
  std::vector<Id> SelectPacks(const ReadDataSubset& subset, uint64_t seed) const;

  // Downloads and verifies `packs` on `threads` threads. `progress` (may be
  // empty) is called from the calling thread after each pack with the
  // number done so far. Findings come back in the order of `packs`,
  // whatever order the threads finish in.
  CheckFindings ReadPacks(const std::vector<Id>& packs, int threads = 3,
                          const std::function<void(size_t done)>& progress = {});

 private:
  // One index entry as the checker keeps it, 48 bytes: the pack is a number
  // into packs_, shifted left by one with the blob type in the low bit.
  struct Entry {
    Id id;
    uint32_t pack_type;
    uint32_t offset;
    uint32_t length;
    uint32_t uncompressed_length;

    uint32_t pack() const { return pack_type >> 1; }
    BlobType type() const { return static_cast<BlobType>(pack_type & 1); }
    PackedBlob Blob() const { return {type(), id, offset, length, uncompressed_length}; }
  };
  // One pack as the index files describe it.
  struct PackInfo {
    Id id;
    std::vector<Id> index_files;  // every index file that lists the pack
    uint64_t expected_size = 0;   // sum of blob lengths + header size
    uint32_t first = 0, count = 0;  // its entries: by_pack_[first, first + count)
  };

  void AddIndexFile(const Id& index_id, const IndexFile& file,
                    std::unordered_map<Id, uint32_t>& numbers);
  void FinishPackEntries(CheckFindings& out);
  void FillBuckets();
  // The entries of (type, id): a range of entries_, empty when not indexed.
  std::pair<size_t, size_t> Range(BlobType type, const Id& id) const;
  const PackInfo* FindPack(const Id& id) const;
  // A pack's entries sorted by offset, exact duplicates removed.
  std::vector<PackedBlob> PackBlobs(const PackInfo& pack) const;
  // Tree loading for CheckStructure: tries every indexed copy in turn.
  Result<Tree> LoadTree(const Id& id);
  // Checks the nodes of one tree; pushes its subtrees with who refers to them.
  void CheckTree(const Id& id, const Tree& tree, CheckFindings& out,
                 std::vector<std::pair<Id, std::string>>& todo);

  // Memory is what matters here: a repository may hold millions of blobs,
  // so the index is kept as sorted arrays, about 53 bytes per entry.
  Repository& repo_;
  std::vector<PackInfo> packs_;     // sorted by id, so reports come out sorted
  std::vector<Entry> entries_;      // sorted by type, id, pack, offset; exact duplicates removed
  std::vector<uint32_t> by_pack_;   // positions in entries_, by pack, by offset within a pack
  // Where each (type, first two bytes of id) starts in entries_: Range
  // searches one bucket (a few entries) instead of all of entries_, whose
  // binary search missed the cache at every step (8% of a check's CPU).
  // 512 KiB, whatever the repository's size.
  std::vector<uint32_t> buckets_;
  // What the structure check saw used: a bit per entries_ position, set on
  // the first entry of each (type, id). Trees used but not indexed at all
  // are remembered by id, so each is reported once.
  std::vector<bool> used_;
  std::unordered_set<Id> missing_trees_;
};

}  // namespace stash
