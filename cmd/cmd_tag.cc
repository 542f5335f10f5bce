// stash tag: add, remove or replace the tags of snapshots. A changed
// snapshot is saved as a new file (keeping the first id in "original") and
// the old file removed, as restic does.
#include <algorithm>
#include <iostream>

#include "base/in_order.h"
#include "cmd/commands.h"

namespace stash::cli {
namespace {

// restic's tag lists: every value split at ",", spaces trimmed, empty
// entries dropped (so `--set ""` changes nothing).
std::vector<std::string> TagList(const Args& args, const std::string& flag) {
  std::vector<std::string> tags;
  for (const auto& value : args.GetAll(flag)) {
    size_t start = 0;
    while (true) {
      size_t comma = value.find(',', start);
      std::string tag = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      size_t b = tag.find_first_not_of(" \t\n\r\v\f");
      size_t e = tag.find_last_not_of(" \t\n\r\v\f");
      if (b != std::string::npos) tags.push_back(tag.substr(b, e - b + 1));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return tags;
}

bool AddTags(Snapshot& sn, const std::vector<std::string>& add) {
  bool changed = false;
  for (const auto& tag : add) {
    if (std::find(sn.tags.begin(), sn.tags.end(), tag) != sn.tags.end()) continue;
    sn.tags.push_back(tag);
    changed = true;
  }
  return changed;
}

// Removal moves the last tag into the freed place, as restic's does, so
// the order of the remaining tags matches restic's.
bool RemoveTags(Snapshot& sn, const std::vector<std::string>& remove) {
  bool changed = false;
  for (const auto& tag : remove) {
    auto it = std::find(sn.tags.begin(), sn.tags.end(), tag);
    if (it == sn.tags.end()) continue;
    *it = sn.tags.back();
    sn.tags.pop_back();
    changed = true;
  }
  return changed;
}

struct TagChange {
  std::vector<std::string> set, add, remove;
};

// Applies the change to `sn`; false when its tags stay as they were.
bool ChangeTags(const Id& id, Snapshot& sn, const TagChange& c) {
  bool changed = false;
  if (!c.set.empty()) {
    sn.tags = c.set;
    changed = true;
  } else {
    changed = AddTags(sn, c.add);
    changed = RemoveTags(sn, c.remove) || changed;
  }
  if (changed && !sn.original) sn.original = id;
  return changed;
}

// Saves each changed snapshot and then removes its old file, as restic
// does, several snapshots at a time (on a remote backend each file is a
// round trip). Stops at the first failure, in the order given.
Status RewriteSnapshots(Repository& repo, const std::vector<SnapshotEntry>& changed) {
  return LoadInOrder<bool>(
      changed.size(), kConcurrentRequests,
      [&](size_t i) -> Result<bool> {
        const auto& [id, sn] = changed[i];
        STASH_ASSIGN_OR_RETURN(Id saved, repo.SaveSnapshot(sn));
        (void)saved;
        STASH_RETURN_IF_ERROR(repo.backend().Remove(FileType::kSnapshot, id.Hex()));
        return true;
      },
      [](size_t, bool&&) { return Status::Ok(); });
}

Result<std::vector<SnapshotEntry>> Chosen(Repository& repo, const Args& args) {
  std::vector<SnapshotEntry> chosen;
  auto filter = FilterFromArgs(args);
  if (args.positional().empty()) {
    STASH_ASSIGN_OR_RETURN(auto all, repo.LoadAllSnapshots());
    for (auto& e : all) {
      if (MatchesFilter(e.second, filter)) chosen.push_back(std::move(e));
    }
    SortByTime(chosen);
    return chosen;
  }
  for (const auto& spec : args.positional()) {
    auto entry = FindSnapshot(repo, spec, filter);
    if (!entry.ok()) {
      std::string why = entry.error().kind() == ErrorKind::kNotFound ||
                                    entry.error().kind() == ErrorKind::kInvalid
                            ? "no matching ID found for prefix \"" + spec + "\""
                            : entry.error().message();
      std::cerr << "Ignoring \"" << spec << "\": " << why << "\n";
      continue;
    }
    chosen.push_back(std::move(*entry));
  }
  return chosen;
}

int RunTag(const Args& args, const Globals& g) {
  TagChange change{TagList(args, "set"), TagList(args, "add"), TagList(args, "remove")};
  // restic counts the flags given, not the tags in them.
  bool set = args.Has("set"), add = args.Has("add"), remove = args.Has("remove");
  if (!set && !add && !remove) return Fatal("nothing to do!");
  if (set && (add || remove)) {
    return Fatal("--set and --add/--remove cannot be given at the same time");
  }
  auto repo = OpenRepository(args, g);
  if (!repo.ok()) return Fatal(repo.error());
  if (!g.quiet && !args.Has("no-lock")) std::cout << "create exclusive lock for repository\n";
  auto lock = LockRepository(**repo, args, LockMode::kExclusive);
  if (!lock.ok()) return Fatal(lock.error());
  auto chosen = Chosen(**repo, args);
  if (!chosen.ok()) return Fatal(chosen.error());
  std::vector<SnapshotEntry> changed;
  for (auto& [id, sn] : *chosen) {
    if (ChangeTags(id, sn, change)) changed.emplace_back(id, std::move(sn));
  }
  Status rewritten = RewriteSnapshots(**repo, changed);
  if (!rewritten.ok()) return Fatal(rewritten.error());
  const size_t modified = changed.size();
  if (!g.quiet) {
    if (modified == 0) {
      std::cout << "no snapshots were modified\n";
    } else {
      std::cout << "modified tags on " << modified << " snapshots\n";
    }
  }
  return kExitOk;
}

}  // namespace

Command TagCommand() {
  return {"tag", "Modify tags on snapshots",
          WithFilterFlags(
              {{"add", 0, true, "tags which will be added to the existing tags in the format `tag[,tag,...]` (can be given multiple times)"},
               {"remove", 0, true, "tags which will be removed from the existing tags in the format `tag[,tag,...]` (can be given multiple times)"},
               {"set", 0, true, "tags which will replace the existing tags in the format `tag[,tag,...]` (can be given multiple times)"}}),
          RunTag, "[flags] [snapshot-ID ...]"};
}

}  // namespace stash::cli
