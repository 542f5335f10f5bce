#include "engine/snapshot_select.h"

#include <algorithm>

namespace stash {
namespace {

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// "a,b" -> every one of a and b is a tag of the snapshot.
bool HasTagList(const Snapshot& s, const std::string& list) {
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t end = list.find(',', pos);
    if (end == std::string::npos) end = list.size();
    std::string tag = list.substr(pos, end - pos);
    if (!tag.empty() && !Contains(s.tags, tag)) return false;
    pos = end + 1;
  }
  return true;
}

}  // namespace

bool MatchesFilter(const Snapshot& s, const SnapshotFilter& f) {
  if (!f.hosts.empty() && !Contains(f.hosts, s.hostname)) return false;
  for (const auto& p : f.paths) {
    if (!Contains(s.paths, p)) return false;
  }
  if (f.tags.empty()) return true;
  return std::any_of(f.tags.begin(), f.tags.end(),
                     [&](const std::string& list) { return HasTagList(s, list); });
}

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
