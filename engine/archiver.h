// Archiver: backs up files and folders into a snapshot.
//
// The pipeline: one thread walks the folders in order (trees must be built
// bottom-up and sorted), file workers read, chunk and hash files, and blob
// workers compress, encrypt and pack new chunks. Both queues are bounded,
// so memory stays flat however large the backup. With a parent snapshot,
// files whose size, mtime, ctime and inode are unchanged reuse the parent's
// content list without being read.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/version.h"
#include "engine/backup_selection.h"
#include "engine/chunker.h"
#include "storage/repository.h"
#include "storage/snapshot.h"

namespace stash {

// One file or folder that could not be read; the backup goes on without it.
struct BackupWarning {
  std::string path;
  std::string message;  // names the path too, in restic's words: "open /a/b: permission denied"
};

struct BackupOptions {
  std::vector<std::string> targets;
  std::string hostname;
  std::vector<std::string> tags;
  std::optional<Timestamp> time;  // default: now
  // What to leave out; nullptr for nothing. Shared with the progress scan.
  std::shared_ptr<BackupSelection> selection;
  std::vector<std::string> snapshot_excludes;  // recorded in the snapshot (restic: --exclude only)
  // restic stores mtime as atime unless --with-atime; so do we, so that
  // reading a tree (which moves atimes) does not change its tree ids.
  bool with_atime = false;

  std::optional<Id> parent;  // --parent; default: latest with same host and paths
  bool force = false;        // --force: read every file, use no parent
  bool ignore_inode = false, ignore_ctime = false;
  // Save no snapshot when the tree equals the parent's (restic >= 0.17).
  bool skip_if_unchanged = false;

  // Called for each warning as it happens (under a lock, one at a time), so
  // warnings show before a later fatal error; they are in the result too.
  std::function<void(const BackupWarning&)> on_warning;

  size_t file_workers = 2;  // files read and chunked at once (--read-concurrency)
  size_t blob_workers = 2;  // chunks compressed and encrypted at once
  size_t walk_workers = 2;  // folders listed at once
};

// What snapshots made here record as their program_version.
inline constexpr char kProgramVersion[] = "stash " STASH_VERSION;

// restic's `backup --json` summary: the counters the snapshot records too
// (folders that only lead to a target count as folders; data_added counts
// new trees' bytes as well as the data's), and what only the output shows.
struct BackupSummary : SnapshotSummary {
  double total_duration = 0;
  Id snapshot_id;
  std::optional<Id> parent;
  bool skipped = false;  // skip_if_unchanged: no snapshot saved
};

struct BackupResult {
  BackupSummary summary;
  std::vector<BackupWarning> warnings;
};

// Live counters for a progress display, updated from the worker threads.
struct BackupProgress {
  std::atomic<uint64_t> files_done{0}, bytes_done{0};
  std::atomic<uint64_t> total_files{0}, total_bytes{0};  // from a parallel scan
  std::atomic<bool> scan_done{false};
  std::atomic<uint64_t> errors{0};

  void StartFile(const std::string& path);
  void EndFile(const std::string& path);
  std::vector<std::string> CurrentFiles();

 private:
  std::mutex mu_;
  std::multiset<std::string> current_;
};

// Backs up `options.targets` and saves a snapshot. A target or entry that
// cannot be read is a warning and left out; fails (and saves no snapshot)
// if the repository fails or nothing at all is left ("snapshot is empty").
Result<BackupResult> Backup(Repository& repo, const ChunkerTables& chunker,
                            const BackupOptions& options, BackupProgress* progress = nullptr);

// The end of every kind of backup: fills in who made `snapshot` (from
// `options`) and the record of the run (`summary`, begun at `started`, when
// the repository's packed bytes stood at `packed_before`), and saves it.
Result<Id> SaveBackupSnapshot(Repository& repo, const BackupOptions& options, const Timestamp& started,
                              uint64_t packed_before, Snapshot& snapshot, BackupSummary& summary);

}  // namespace stash
