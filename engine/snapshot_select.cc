#include "engine/snapshot_select.h"

#include <algorithm>

namespace stash {
void SortByTime(std::vector<SnapshotEntry>& snapshots) {
  std::sort(snapshots.begin(), snapshots.end(), [](const auto& a, const auto& b) {
    if (a.second.time != b.second.time) return a.second.time < b.second.time;
    return a.first < b.first;
  });
}

Result<SnapshotEntry> FindSnapshot(Repository& repo, std::string_view spec,
                                   const SnapshotFilter& filter) {
  if (spec == "latest") {
    STASH_ASSIGN_OR_RETURN(auto all, repo.LoadAllSnapshots());
    std::vector<SnapshotEntry> matching;
    for (auto& e : all) {
      if (MatchesFilter(e.second, filter)) matching.push_back(std::move(e));
    }
    if (matching.empty()) return NotFound("no snapshot found (latest)");
    SortByTime(matching);
    return std::move(matching.back());
  }
  STASH_ASSIGN_OR_RETURN(Id id, repo.ResolvePrefix(FileType::kSnapshot, spec));
  STASH_ASSIGN_OR_RETURN(Snapshot snapshot, repo.LoadSnapshot(id));
  return SnapshotEntry{id, std::move(snapshot)};
}

}  // namespace stash
