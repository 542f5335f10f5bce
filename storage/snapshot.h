// Snapshot files: the root of one backup.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/id.h"
#include "base/go_time.h"

namespace stash {

// What restic 0.17 and later record of the backup that made a snapshot (its
// "summary" member, with the counters of `backup --json`). restic 0.18's
// `snapshots` shows total_bytes_processed as the Size column.
struct SnapshotSummary {
  Timestamp backup_start, backup_end;
  uint64_t files_new = 0, files_changed = 0, files_unmodified = 0;
  uint64_t dirs_new = 0, dirs_changed = 0, dirs_unmodified = 0;
  uint64_t data_blobs = 0, tree_blobs = 0;
  uint64_t data_added = 0;         // plaintext bytes of new blobs, trees included
  uint64_t data_added_packed = 0;  // the same blobs as stored in packs
  uint64_t total_files_processed = 0, total_bytes_processed = 0;
};

struct Snapshot {
  Timestamp time;
  std::optional<Id> parent;
  Id tree;
  std::vector<std::string> paths;
  std::string hostname;
  std::string username;
  uint32_t uid = 0, gid = 0;
  std::vector<std::string> excludes;
  std::vector<std::string> tags;
  std::optional<Id> original;
  // Fields newer restic versions add (program_version, summary, ...) kept as
  // a raw JSON object body (`"k":v,...`) so `snapshots --json` shows them.
  std::string extra_json;
};

// Compact JSON in restic 0.14's field order and omitempty rules, no newline.
std::string EncodeSnapshot(const Snapshot& snapshot);

// `"program_version":"...","summary":{...}` as restic 0.17 writes them (every
// counter present), for the extra_json of a snapshot this program makes.
std::string EncodeVersionAndSummary(std::string_view program_version,
                                    const SnapshotSummary& summary);

// The same fields followed by "id" and "short_id", as one element of
// `restic snapshots --json`.
std::string EncodeSnapshotListEntry(const Snapshot& snapshot, const Id& id);

Result<Snapshot> DecodeSnapshot(ByteView json);

}  // namespace stash
