// stash stats: walk snapshots and count sizes the way restic 0.14 does
// (see engine/stats.h for what each --mode counts).
//
// With SNAPSHOT arguments only those count (each once, even if named
// twice); otherwise every snapshot that passes --host/--tag/--path.
#include <cstdio>
#include <iostream>
#include <set>

#include "base/format_bytes.h"
#include "cmd/commands.h"
#include "engine/stats.h"

namespace stash::cli {
namespace {

// The snapshots named on the command line, in order, without repeats.
Result<std::vector<SnapshotEntry>> NamedSnapshots(Repository& repo, const Args& args) {
  SnapshotFilter filter = FilterFromArgs(args);
  std::vector<SnapshotEntry> out;
  std::set<Id> seen;
  bool used_filter = false;
  for (const auto& spec : args.positional()) {
    used_filter = used_filter || spec == "latest";
    STASH_ASSIGN_OR_RETURN(auto entry, FindSnapshot(repo, spec, filter));
    if (seen.insert(entry.first).second) out.push_back(std::move(entry));
  }
  bool has_filter = !filter.hosts.empty() || !filter.tags.empty() || !filter.paths.empty();
  if (!used_filter && has_filter) {
    std::cerr << "Ignoring filters as there are explicit snapshot ids given\n";
  }
  return out;
}

Result<std::vector<SnapshotEntry>> SelectSnapshots(Repository& repo, const Args& args) {
  if (!args.positional().empty()) return NamedSnapshots(repo, args);
  STASH_ASSIGN_OR_RETURN(auto all, repo.LoadAllSnapshots());
  SnapshotFilter filter = FilterFromArgs(args);
  std::vector<SnapshotEntry> out;
  // In listing order, not by time: restic walks them in (roughly) the
  // order the backend lists them, and blobs-per-file counts a content under
  // the path it is first met at, so the order can change that count.
  for (auto& e : all) {
    if (MatchesFilter(e.second, filter)) out.push_back(std::move(e));
  }
  return out;
}

void PrintText(const StatsTotals& t, StatsMode mode) {
  std::printf("Stats in %s mode:\n", StatsModeName(mode));
  std::printf("Snapshots processed:   %llu\n", static_cast<unsigned long long>(t.snapshots_count));
  if (t.total_blob_count > 0) {
    std::printf("   Total Blob Count:   %llu\n", static_cast<unsigned long long>(t.total_blob_count));
  }
  if (t.total_file_count > 0) {
    std::printf("   Total File Count:   %llu\n", static_cast<unsigned long long>(t.total_file_count));
  }
  std::printf("         Total Size:   %-5s\n", FormatBytes(t.total_size).c_str());
}

int RunStats(const Args& args, const Globals& g) {
  std::string mode_name = args.Get("mode", "restore-size");
  auto mode = ParseStatsMode(mode_name);
  if (!mode) {
    return Fatal("unknown counting mode \"" + mode_name +
                 "\" (use restore-size, files-by-contents, blobs-per-file or raw-data)");
  }
  auto repo = OpenRepository(args, g);
  if (!repo.ok()) return Fatal(repo.error());
  auto lock = LockRepository(**repo, args, LockMode::kShared);
  if (!lock.ok()) return Fatal(lock.error());
  // Snapshots before the index, so a backup finishing meanwhile cannot
  // leave us a snapshot whose blobs we do not know.
  auto snapshots = SelectSnapshots(**repo, args);
  if (!snapshots.ok()) return Fatal(snapshots.error());
  if (Status s = (*repo)->LoadIndex(); !s.ok()) return Fatal(s.error());
  if (!g.json) std::printf("scanning...\n");
  StatsCollector stats(**repo, *mode);
  for (const auto& [id, snapshot] : *snapshots) {
    Status s = stats.Add(snapshot);
    if (!s.ok()) return Fatal(s.error().Wrap("snapshot " + id.Short()));
  }
  auto totals = stats.Finish();
  if (!totals.ok()) return Fatal(totals.error());
  if (g.json) {
    std::printf("%s\n", EncodeStatsJson(*totals).c_str());
  } else {
    PrintText(*totals, *mode);
  }
  return kExitOk;
}

}  // namespace

Command StatsCommand() {
  return {"stats", "Scan the repository and show basic statistics",
          WithFilterFlags({{"mode", 0, true,
                            "counting mode: restore-size (default), files-by-contents, "
                            "blobs-per-file or raw-data"}}),
          RunStats, "[flags] [snapshot ID] [...]"};
}

}  // namespace stash::cli
