// stash diff: what changed between two snapshots, line by line as restic
// prints it ("+", "-", "M", "T", "U"), then counts of files, folders and
// the blobs only one side needs.
#include <iostream>
#include <map>
#include <set>

#include "cmd/commands.h"
#include "cmd/progress.h"
#include "base/go_json.h"

namespace stash::cli {
namespace {

using BlobSet = std::set<std::pair<BlobType, Id>>;

struct DiffStat {
  uint64_t files = 0, dirs = 0, others = 0, data_blobs = 0, tree_blobs = 0, bytes = 0;
  void Add(const Node& n) {
    if (n.type == NodeType::kFile) {
      ++files;
    } else if (n.type == NodeType::kDir) {
      ++dirs;
    } else {
      ++others;
    }
  }
};

struct DiffStats {
  uint64_t changed_files = 0;
  DiffStat added, removed;
  BlobSet before, after, common;
};

void AddBlobs(BlobSet& set, const Node& n) {
  if (n.type == NodeType::kFile && n.content) {
    for (const auto& id : *n.content) set.insert({BlobType::kData, id});
  } else if (n.type == NodeType::kDir && n.subtree) {
    set.insert({BlobType::kTree, *n.subtree});
  }
}

bool SameXattrs(const Node& a, const Node& b) {
  if (a.extended_attributes.size() != b.extended_attributes.size()) return false;
  for (size_t i = 0; i < a.extended_attributes.size(); ++i) {
    if (a.extended_attributes[i].name != b.extended_attributes[i].name ||
        a.extended_attributes[i].value != b.extended_attributes[i].value) {
      return false;
    }
  }
  return true;
}

// restic's Node.Equals; `with_content` false compares all but the content.
bool SameNode(const Node& a, const Node& b, bool with_content) {
  return a.name == b.name && a.type == b.type && a.mode == b.mode && a.mtime == b.mtime &&
         a.atime == b.atime && a.ctime == b.ctime && a.uid == b.uid && a.gid == b.gid &&
         a.user == b.user && a.group == b.group && a.inode == b.inode &&
         a.device_id == b.device_id && a.size == b.size && a.links == b.links &&
         a.linktarget == b.linktarget && a.device == b.device &&
         (!with_content || a.content == b.content) && SameXattrs(a, b) && a.subtree == b.subtree &&
         a.error == b.error;
}

std::string Join(const std::string& prefix, const std::string& name) {
  return prefix.empty() || prefix.back() != '/' ? prefix + "/" + name : prefix + name;
}

class Comparer {
 public:
  Comparer(Repository& repo, bool json, bool metadata) : repo_(repo), json_(json), metadata_(metadata) {}

  Status DiffTree(DiffStats& stats, const std::string& prefix, const Id& id1, const Id& id2) {
    STASH_ASSIGN_OR_RETURN(Tree t1, repo_.LoadTree(id1));
    STASH_ASSIGN_OR_RETURN(Tree t2, repo_.LoadTree(id2));
    std::map<std::string, std::pair<const Node*, const Node*>> names;
    for (const auto& n : t1.nodes) names[n.name].first = &n;
    for (const auto& n : t2.nodes) names[n.name].second = &n;
    for (const auto& [name, pair] : names) {
      const auto [n1, n2] = pair;
      if (n1) AddBlobs(stats.before, *n1);
      if (n2) AddBlobs(stats.after, *n2);
      if (n1 && n2) {
        STASH_RETURN_IF_ERROR(Both(stats, Join(prefix, name), *n1, *n2));
      } else if (n1) {
        STASH_RETURN_IF_ERROR(OneSide(stats.removed, stats.before, "-", Join(prefix, name), *n1));
      } else {
        STASH_RETURN_IF_ERROR(OneSide(stats.added, stats.after, "+", Join(prefix, name), *n2));
      }
    }
    return Status::Ok();
  }

 private:
  Status Both(DiffStats& stats, std::string path, const Node& n1, const Node& n2) {
    std::string mod;
    if (n1.type != n2.type) mod += "T";
    if (n2.type == NodeType::kDir) path += "/";
    if (n1.type == NodeType::kFile && n2.type == NodeType::kFile && n1.content != n2.content) {
      mod += "M";
      ++stats.changed_files;
      // Same metadata but other content: possibly bit rot.
      if (SameNode(n1, n2, false)) mod += "?";
    } else if (metadata_ && !SameNode(n1, n2, true)) {
      mod += "U";
    }
    if (!mod.empty()) PrintChange(path, mod);
    bool dir1 = n1.type == NodeType::kDir && n1.subtree, dir2 = n2.type == NodeType::kDir && n2.subtree;
    if (dir1 && dir2) {
      if (*n1.subtree == *n2.subtree) return Collect(stats.common, *n1.subtree);
      return DiffTree(stats, path, *n1.subtree, *n2.subtree);
    }
    if (dir1) return Collect(stats.before, *n1.subtree);
    if (dir2) return Collect(stats.after, *n2.subtree);
    return Status::Ok();
  }

  Status OneSide(DiffStat& stat, BlobSet& blobs, const char* mode, std::string path, const Node& n) {
    if (n.type == NodeType::kDir) path += "/";
    PrintChange(path, mode);
    stat.Add(n);
    if (n.type == NodeType::kDir && n.subtree) return PrintDir(stat, blobs, mode, path, *n.subtree);
    return Status::Ok();
  }

  Status PrintDir(DiffStat& stat, BlobSet& blobs, const char* mode, const std::string& prefix, const Id& id) {
    STASH_ASSIGN_OR_RETURN(Tree tree, repo_.LoadTree(id));
    for (const auto& n : tree.nodes) {
      std::string path = Join(prefix, n.name);
      if (n.type == NodeType::kDir) path += "/";
      PrintChange(path, mode);
      stat.Add(n);
      AddBlobs(blobs, n);
      if (n.type == NodeType::kDir && n.subtree) {
        STASH_RETURN_IF_ERROR(PrintDir(stat, blobs, mode, path, *n.subtree));
      }
    }
    return Status::Ok();
  }

  Status Collect(BlobSet& blobs, const Id& id) {
    STASH_ASSIGN_OR_RETURN(Tree tree, repo_.LoadTree(id));
    for (const auto& n : tree.nodes) {
      AddBlobs(blobs, n);
      if (n.type == NodeType::kDir && n.subtree) STASH_RETURN_IF_ERROR(Collect(blobs, *n.subtree));
    }
    return Status::Ok();
  }

  void PrintChange(const std::string& path, const std::string& mod) {
    if (json_) {
      std::string o = "{\"message_type\":\"change\",\"path\":";
      AppendGoJsonString(o, path);
      o += ",\"modifier\":";
      AppendGoJsonString(o, mod);
      std::cout << o << "}\n";
    } else {
      std::printf("%-5s%s\n", mod.c_str(), path.c_str());
    }
  }

  Repository& repo_;
  bool json_, metadata_;
};

// Counts and sizes the blobs in `set` that neither `both` nor `common` hold.
void CountBlobs(const Repository& repo, const BlobSet& set, const BlobSet& other, const BlobSet& common,
                DiffStat& stat) {
  for (const auto& blob : set) {
    if (other.count(blob) || common.count(blob)) continue;
    if (blob.first == BlobType::kTree) {
      ++stat.tree_blobs;
    } else {
      ++stat.data_blobs;
    }
    if (auto where = repo.index().Lookup(blob.first, blob.second)) stat.bytes += where->blob.PlainLength();
  }
}

std::string StatJson(const DiffStat& s) {
  return "{\"files\":" + std::to_string(s.files) + ",\"dirs\":" + std::to_string(s.dirs) +
         ",\"others\":" + std::to_string(s.others) + ",\"data_blobs\":" + std::to_string(s.data_blobs) +
         ",\"tree_blobs\":" + std::to_string(s.tree_blobs) + ",\"bytes\":" + std::to_string(s.bytes) + "}";
}

void PrintStats(const DiffStats& s, const Args& args, bool json) {
  if (json) {
    std::string o = "{\"message_type\":\"statistics\",\"source_snapshot\":";
    AppendGoJsonString(o, args.positional()[0]);
    o += ",\"target_snapshot\":";
    AppendGoJsonString(o, args.positional()[1]);
    o += ",\"changed_files\":" + std::to_string(s.changed_files) + ",\"added\":" + StatJson(s.added) +
         ",\"removed\":" + StatJson(s.removed) + "}";
    std::cout << o << "\n";
    return;
  }
  auto n = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  std::printf("\nFiles:       %5llu new, %5llu removed, %5llu changed\n", n(s.added.files),
              n(s.removed.files), n(s.changed_files));
  std::printf("Dirs:        %5llu new, %5llu removed\n", n(s.added.dirs), n(s.removed.dirs));
  std::printf("Others:      %5llu new, %5llu removed\n", n(s.added.others), n(s.removed.others));
  std::printf("Data Blobs:  %5llu new, %5llu removed\n", n(s.added.data_blobs), n(s.removed.data_blobs));
  std::printf("Tree Blobs:  %5llu new, %5llu removed\n", n(s.added.tree_blobs), n(s.removed.tree_blobs));
  std::printf("  Added:   %-5s\n", FormatBytes(s.added.bytes).c_str());
  std::printf("  Removed: %-5s\n", FormatBytes(s.removed.bytes).c_str());
}

int RunDiff(const Args& args, const Globals& g) {
  if (args.positional().size() != 2) {
    return Fatal("specify two snapshot IDs");
  }
  auto repo = OpenRepository(args, g);
  if (!repo.ok()) return Fatal(repo.error());
  auto lock = LockRepository(**repo, args, LockMode::kShared);
  if (!lock.ok()) return Fatal(lock.error());
  auto index = (*repo)->LoadIndex();
  if (!index.ok()) return Fatal(index.error());
  auto sn1 = FindSnapshot(**repo, args.positional()[0], {});
  if (!sn1.ok()) return Fatal(sn1.error());
  auto sn2 = FindSnapshot(**repo, args.positional()[1], {});
  if (!sn2.ok()) return Fatal(sn2.error());
  if (!g.json && !g.quiet) {
    std::printf("comparing snapshot %s to %s:\n\n", sn1->first.Short().c_str(), sn2->first.Short().c_str());
  }
  DiffStats stats;
  stats.before.insert({BlobType::kTree, sn1->second.tree});
  stats.after.insert({BlobType::kTree, sn2->second.tree});
  Comparer comparer(**repo, g.json, args.Has("metadata"));
  auto diffed = comparer.DiffTree(stats, "/", sn1->second.tree, sn2->second.tree);
  if (!diffed.ok()) return Fatal(diffed.error());
  CountBlobs(**repo, stats.before, stats.after, stats.common, stats.removed);
  CountBlobs(**repo, stats.after, stats.before, stats.common, stats.added);
  PrintStats(stats, args, g.json);
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace

Command DiffCommand() {
  return {"diff", "Show differences between two snapshots",
          {{"metadata", 0, false, "print changes in metadata"}},
          RunDiff, "[flags] snapshot-ID snapshot-ID"};
}

}  // namespace stash::cli
