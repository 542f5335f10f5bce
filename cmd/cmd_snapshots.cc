// stash snapshots: list snapshots, as a table or restic's JSON.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>

#include "cmd/commands.h"
#include "storage/go_json.h"

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

void PrintTable(const std::vector<SnapshotEntry>& list) {
  size_t host_w = 4, tags_w = 4;
  for (const auto& [id, s] : list) {
    host_w = std::max(host_w, s.hostname.size());
    for (const auto& t : s.tags) tags_w = std::max(tags_w, t.size());
  }
  auto row = [&](const std::string& id, const std::string& time, const std::string& host,
                 const std::string& tag, const std::string& path) {
    std::printf("%-8s  %-19s  %-*s  %-*s  %s\n", id.c_str(), time.c_str(), (int)host_w,
                host.c_str(), (int)tags_w, tag.c_str(), path.c_str());
  };
  std::string rule(8 + 2 + 19 + 2 + host_w + 2 + tags_w + 2 + 20, '-');
  row("ID", "Time", "Host", "Tags", "Paths");
  std::printf("%s\n", rule.c_str());
  for (const auto& [id, s] : list) {
    size_t lines = std::max<size_t>({1, s.paths.size(), s.tags.size()});
    for (size_t i = 0; i < lines; ++i) {
      row(i ? "" : id.Short(), i ? "" : FormatTableTime(s.time), i ? "" : s.hostname,
          i < s.tags.size() ? s.tags[i] : "", i < s.paths.size() ? s.paths[i] : "");
    }
  }
  std::printf("%s\n%zu snapshots\n", rule.c_str(), list.size());
}

int RunSnapshots(const Args& args, const Globals& g) {
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
  SortByTime(list);
  // restic's snapshot listing shows each snapshot's paths sorted.
  for (auto& e : list) std::sort(e.second.paths.begin(), e.second.paths.end());
  if (args.Has("latest")) {
    int n = std::atoi(args.Get("latest").c_str());
    if (n <= 0) return Fatal("invalid --latest \"" + args.Get("latest") + "\"");
    list = LatestPerGroup(std::move(list), static_cast<size_t>(n));
  }
  if (g.json) {
    std::string out = "[";
    for (size_t i = 0; i < list.size(); ++i) {
      if (i) out += ",";
      out += EncodeSnapshotListEntry(list[i].second, list[i].first);
    }
    std::cout << out << "]\n";
  } else {
    PrintTable(list);
  }
  return kExitOk;
}

}  // namespace

Command SnapshotsCommand() {
  return {"snapshots", "List all snapshots",
          WithFilterFlags({{"latest", 0, true, "only show the last N snapshots per host and paths"},
                            {"compact", 'c', false, "accepted for compatibility"}}),
          RunSnapshots};
}

}  // namespace stash::cli
