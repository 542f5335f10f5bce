// stash snapshots: list snapshots, as a table or restic's JSON.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>

#include "cmd/commands.h"
#include "cmd/snapshot_table.h"
#include "engine/forget.h"

namespace stash::cli {
namespace {

// Keeps the newest `n` snapshots of each host+paths group.
std::vector<SnapshotEntry> LatestPerGroup(std::vector<SnapshotEntry> list, size_t n) {
  std::map<std::pair<std::string, std::vector<std::string>>, size_t> seen;
  std::vector<SnapshotEntry> out;
  for (auto it = list.rbegin(); it != list.rend(); ++it) {
    auto paths = it->second.paths;
    std::sort(paths.begin(), paths.end());
    if (seen[{it->second.hostname, paths}]++ < n) out.push_back(std::move(*it));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::string JsonList(const std::vector<SnapshotEntry>& list) {
  std::string out = "[";
  for (size_t i = 0; i < list.size(); ++i) {
    if (i) out += ",";
    out += EncodeSnapshotListEntry(list[i].second, list[i].first);
  }
  return out + "]";
}

// restic's JSON: the bare list, or [{"group_key":..,"snapshots":[..]}] with --group-by.
void PrintJson(const std::vector<SnapshotGroup>& groups, bool grouped) {
  if (!grouped) {
    std::cout << JsonList(groups.empty() ? std::vector<SnapshotEntry>{} : groups[0].snapshots) << "\n";
    return;
  }
  std::string out = "[";
  for (size_t i = 0; i < groups.size(); ++i) {
    if (i) out += ",";
    out += "{\"group_key\":" + groups[i].key_json + ",\"snapshots\":" + JsonList(groups[i].snapshots) + "}";
  }
  std::cout << out << "]\n";
}

int RunSnapshots(const Args& args, const Globals& g) {
  size_t latest = 0;
  if (args.Has("latest")) {
    int n = std::atoi(args.Get("latest").c_str());
    if (n <= 0) return Fatal("invalid --latest \"" + args.Get("latest") + "\"");
    latest = static_cast<size_t>(n);
  }
  auto repo = OpenRepository(args, g);
  if (!repo.ok()) return Fatal(repo.error());
  std::vector<SnapshotEntry> list;
  if (!args.positional().empty()) {
    for (const auto& spec : args.positional()) {
      auto e = FindSnapshot(**repo, spec, FilterFromArgs(args));
      if (!e.ok()) return Fatal(e.error());
      list.push_back(std::move(*e));
    }
  } else {
    auto all = (*repo)->LoadAllSnapshots();
    if (!all.ok()) return Fatal(all.error());
    SnapshotFilter filter = FilterFromArgs(args);
    for (auto& e : *all) {
      if (MatchesFilter(e.second, filter)) list.push_back(std::move(e));
    }
  }
  auto group_by = ParseGroupBy(args.Get("group-by", ""));
  if (!group_by.ok()) return Fatal(group_by.error());
  const bool grouped = group_by->host || group_by->paths || group_by->tags;
  // Groups in a fixed order (restic's is Go's random map order); no
  // snapshots, no groups and no table, as restic prints nothing then.
  auto groups = GroupSnapshots(std::move(list), *group_by);
  for (auto& group : groups) {
    SortByTime(group.snapshots);
    if (latest > 0) group.snapshots = LatestPerGroup(std::move(group.snapshots), latest);
  }
  if (g.json) {
    PrintJson(groups, grouped);
    return kExitOk;
  }
  for (const auto& group : groups) {
    if (grouped) PrintSnapshotGroupHeader(group);
    PrintSnapshotTable(group.snapshots, nullptr, args.Has("compact"));
  }
  return kExitOk;
}

}  // namespace

Command SnapshotsCommand() {
  return {"snapshots", "List all snapshots",
          WithFilterFlags({{"latest", 0, true, "only show the last N snapshots per host and paths"},
                            {"compact", 'c', false, "use compact output format"},
                            {"group-by", 'g', true, "group snapshots by host, paths and/or tags, separated by comma"}}),
          RunSnapshots, "[flags] [snapshotID ...]"};
}

}  // namespace stash::cli
