// Snapshot files: the root of one backup.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/id.h"
#include "base/go_time.h"

namespace stash {

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

// The same fields followed by "id" and "short_id", as one element of
// `restic snapshots --json`.
std::string EncodeSnapshotListEntry(const Snapshot& snapshot, const Id& id);

Result<Snapshot> DecodeSnapshot(ByteView json);

}  // namespace stash
