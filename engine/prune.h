// Prune: remove data that no snapshot needs any more.
//
// Follows restic 0.14's plan (docs/repository-format.md, 9.2): under an exclusive
// lock, find the blobs every snapshot uses, delete packs nothing uses,
// repack partly used packs, write a fresh index, then delete what was
// replaced. It never removes a blob that a snapshot still refers to.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/result.h"
#include "storage/repository.h"

namespace stash {

struct PruneOptions {
  // Unused bytes to tolerate after pruning (restic's --max-unused), as a
  // multiple of the used bytes: "5%" of everything left is 5/95 of the used
  // bytes. max_unused_bytes, when set, is an absolute number instead. A
  // negative fraction means unlimited.
  double max_unused_fraction = 5.0 / 95;
  std::optional<uint64_t> max_unused_bytes;
  uint64_t max_repack_bytes = UINT64_MAX;
  bool repack_cacheable_only = false;
  bool repack_small = false;
  bool repack_uncompressed = false;
  bool dry_run = false;
};

struct PruneStats {
  uint64_t packs_deleted = 0, packs_repacked = 0, packs_kept = 0;
  uint64_t blobs_used = 0, blobs_unused = 0;
  uint64_t bytes_used = 0, bytes_unused = 0;
  uint64_t bytes_freed = 0;
  uint64_t index_files_written = 0, index_files_deleted = 0;
  // The plan as restic 0.14's summary shows it (sizes are blob lengths in
  // packs): every blob of the packs to repack and their headers, the unused
  // ones among them, the blobs of packs to delete, and pack files no index
  // names (deleted too).
  uint64_t blobs_repack = 0, bytes_repack = 0;
  uint64_t blobs_repack_removed = 0, bytes_repack_removed = 0;
  uint64_t blobs_delete = 0, bytes_delete = 0;
  uint64_t packs_unreferenced = 0, bytes_unreferenced = 0;
};

// What prune tells its caller as it goes: progress messages ("loading
// indexes...", "repacking packs", ...), and the plan's figures once the
// packs are chosen, before anything is changed (also on a dry run).
struct PruneReport {
  std::function<void(const std::string&)> message;
  std::function<void(const PruneStats&)> planned;
};

// Parses restic's --max-unused ("5%", "100M", "unlimited") and
// --max-repack-size ("1G") values into `options`.
Status ParseMaxUnused(const std::string& text, PruneOptions& options);
Result<uint64_t> ParseByteSize(const std::string& text);

// The caller holds an exclusive lock on the repository.
Result<PruneStats> Prune(Repository& repo, const PruneOptions& options, const PruneReport& report = {});

}  // namespace stash
