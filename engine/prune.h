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
  // Unused bytes to tolerate after pruning (restic's --max-unused): a
  // fraction of the used bytes ("5%"), or an absolute number of bytes when
  // max_unused_bytes is set. A negative fraction means unlimited.
  double max_unused_fraction = 0.05;
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
};

// Progress messages ("loading indexes", "repacking packs", ...).
using PruneLog = std::function<void(const std::string&)>;

// Parses restic's --max-unused ("5%", "100M", "unlimited") and
// --max-repack-size ("1G") values into `options`.
Status ParseMaxUnused(const std::string& text, PruneOptions& options);
Result<uint64_t> ParseByteSize(const std::string& text);

// The caller holds an exclusive lock on the repository.
Result<PruneStats> Prune(Repository& repo, const PruneOptions& options, const PruneLog& log = {});

}  // namespace stash
