// Repository statistics, counted exactly as restic 0.14's `stats` counts.
//
// Modes (restic's names):
//   restore-size       every node of every snapshot (directories and
//                      symlinks too) counts as a file; sizes add up, but a
//                      hard-linked inode only once per snapshot.
//   files-by-contents  nodes unique by their content blob list; the first
//                      one seen adds its size. All nodes without content
//                      (directories, empty files, symlinks) share one
//                      identity, so together they count once.
//   blobs-per-file     like files-by-contents, but each new content also
//                      counts its data blobs (plaintext sizes), once per
//                      file path.
//   raw-data           every tree and data blob the snapshots use, once,
//                      with its size as stored in its pack (encrypted,
//                      maybe compressed). The file count stays 0.
// Within one snapshot, the content modes walk a subtree seen before only
// once (restic's walker skips trees its callback marked as ignored), which
// cannot change their counts. Call Repository::LoadIndex first.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "base/result.h"
#include "storage/repository.h"

namespace stash {

enum class StatsMode { kRestoreSize, kFilesByContents, kBlobsPerFile, kRawData };

// "restore-size", "files-by-contents", "blobs-per-file", "raw-data".
const char* StatsModeName(StatsMode mode);
std::optional<StatsMode> ParseStatsMode(std::string_view name);

struct StatsTotals {
  uint64_t total_size = 0;
  uint64_t total_file_count = 0;
  uint64_t total_blob_count = 0;  // restic omits it from JSON when 0
  uint64_t snapshots_count = 0;
};

// restic's JSON: {"total_size":..,"total_file_count":..[,"total_blob_count":..],
// "snapshots_count":..} without a newline.
std::string EncodeStatsJson(const StatsTotals& totals);

// Feed it snapshots one by one, then ask for the totals. Counting state is
// shared across snapshots, as in restic.
class StatsCollector {
 public:
  StatsCollector(Repository& repo, StatsMode mode) : repo_(repo), mode_(mode) {}

  // Errors name the tree or blob that could not be found or read.
  Status Add(const Snapshot& snapshot);
  Result<StatsTotals> Finish();

 private:
  Status WalkRestoreSize(const Id& tree, std::unordered_set<uint64_t>& inodes);
  Status WalkByContents(const Id& tree, const std::string& prefix,
                        std::unordered_set<Id>& walked);
  Status CountContents(const Node& node, const std::string& path, const Id& parent);
  Status CollectUsedBlobs(const Id& tree);

  Repository& repo_;
  StatsMode mode_;
  StatsTotals totals_;
  // files-by-contents / blobs-per-file: contents seen, and which data
  // blobs each path has already counted.
  std::unordered_set<Id> contents_seen_;
  std::map<std::string, std::unordered_set<Id>> path_blobs_;
  // raw-data: every tree and data blob in use.
  std::unordered_set<Id> used_trees_, used_data_;
};

}  // namespace stash
