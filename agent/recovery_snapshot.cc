#include "agent/recovery_snapshot.h"

#include <algorithm>

namespace stash::agent {
namespace {

bool HasPath(const Snapshot& s, const std::string& path) {
  return std::find(s.paths.begin(), s.paths.end(), path) != s.paths.end();
}

Result<SnapshotEntry> Named(const std::vector<SnapshotEntry>& snapshots, const std::string& short_id) {
  const SnapshotEntry* found = nullptr;
  for (const auto& entry : snapshots) {
    if (!entry.first.Hex().starts_with(short_id)) continue;
    if (found && found->first != entry.first) return Conflict("snapshot id prefix " + short_id + " is ambiguous");
    found = &entry;
  }
  if (!found) return NotFound("no snapshot with id " + short_id + " in the repository");
  return *found;
}

}  // namespace

Result<SnapshotEntry> ChooseSnapshot(const std::vector<SnapshotEntry>& snapshots, const std::string& short_id,
                                     const std::string& host, const std::string& path) {
  if (!short_id.empty()) return Named(snapshots, short_id);
  std::vector<SnapshotEntry> matching;
  for (const auto& entry : snapshots) {
    if ((host.empty() || entry.second.hostname == host) && HasPath(entry.second, path)) matching.push_back(entry);
  }
  if (matching.empty()) {
    return NotFound("no snapshot " + (host.empty() ? std::string() : "of host " + host + " ") + "holds " + path);
  }
  SortByTime(matching);
  return matching.back();
}

std::vector<std::string> SubtreeCandidates(const std::string& path) {
  std::vector<std::string> out = {path};
  size_t slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (!base.empty() && "/" + base != path) out.push_back("/" + base);
  return out;
}

}  // namespace stash::agent
