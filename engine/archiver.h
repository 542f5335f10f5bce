// Archiver: backs up files and folders into a snapshot.
//
// The targets become a tree exactly as restic builds it: an absolute target
// /a/b/c is stored under intermediate folders a and b (with their own
// metadata), a relative target keeps its relative shape, and "." or "../.."
// stand for their contents. See restic-format.md §6.1.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/chunker.h"
#include "engine/filter.h"
#include "storage/repository.h"

namespace stash {

struct BackupOptions {
  std::vector<std::string> targets;
  std::string hostname;
  std::vector<std::string> tags;
  std::optional<Timestamp> time;  // default: now
  PathFilter excludes;
  // restic stores mtime as atime unless --with-atime; so do we, so that
  // reading a tree (which moves atimes) does not change its tree ids.
  bool with_atime = false;
};

// Counters with the names restic's `backup --json` summary uses.
struct BackupSummary {
  uint64_t files_new = 0, files_changed = 0, files_unmodified = 0;
  uint64_t dirs_new = 0, dirs_changed = 0, dirs_unmodified = 0;
  uint64_t data_blobs = 0, tree_blobs = 0;
  uint64_t data_added = 0;
  uint64_t total_files_processed = 0, total_bytes_processed = 0;
  double total_duration = 0;
  Id snapshot_id;
};

// One file or folder that could not be read; the backup goes on without it.
struct BackupWarning {
  std::string path;
  std::string message;
};

// Called for each finished file (for progress output).
using BackupObserver = std::function<void(const std::string& path, uint64_t bytes)>;

struct BackupResult {
  BackupSummary summary;
  std::vector<BackupWarning> warnings;
};

// Backs up `options.targets` and saves a snapshot. Fails (and saves no
// snapshot) if a target itself cannot be read or the repository fails.
Result<BackupResult> Backup(Repository& repo, const ChunkerTables& chunker,
                            const BackupOptions& options, const BackupObserver& observer = {});

}  // namespace stash
