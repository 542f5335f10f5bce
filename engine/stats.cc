#include "engine/stats.h"

namespace stash {
namespace {

constexpr std::pair<StatsMode, const char*> kModeNames[] = {
    {StatsMode::kRestoreSize, "restore-size"},
    {StatsMode::kFilesByContents, "files-by-contents"},
    {StatsMode::kBlobsPerFile, "blobs-per-file"},
    {StatsMode::kRawData, "raw-data"},
};

// restic's walker sorts every tree by name before visiting it; trees we
// read should already be sorted, but a foreign one may not be.
Result<Tree> LoadSortedTree(Repository& repo, const Id& id) {
  STASH_ASSIGN_OR_RETURN(Tree tree, repo.LoadTree(id));
  SortTree(tree);
  return tree;
}

Error NilSubtree(const Node& node, const std::string& path) {
  return Corrupt("subtree for node " + node.name + " in tree " + path + " is nil");
}

// Go's path.Join for a prefix that is already clean and a plain name.
std::string JoinPath(const std::string& prefix, const std::string& name) {
  return prefix == "/" ? "/" + name : prefix + "/" + name;
}

// Identity of a file by its contents: the hash of its blob ids in order,
// as restic's makeFileIDByContents. No content hashes to the empty input.
Id ContentsId(const Node& node) {
  Bytes all;
  if (node.content) {
    for (const auto& blob : *node.content) all.insert(all.end(), blob.bytes.begin(), blob.bytes.end());
  }
  return Sha256(all);
}

}  // namespace

const char* StatsModeName(StatsMode mode) {
  for (const auto& [m, name] : kModeNames) {
    if (m == mode) return name;
  }
  return "?";
}

std::optional<StatsMode> ParseStatsMode(std::string_view name) {
  for (const auto& [m, n] : kModeNames) {
    if (name == n) return m;
  }
  return std::nullopt;
}

std::string EncodeStatsJson(const StatsTotals& t) {
  std::string out = "{\"total_size\":" + std::to_string(t.total_size) +
                    ",\"total_file_count\":" + std::to_string(t.total_file_count);
  if (t.total_blob_count != 0) out += ",\"total_blob_count\":" + std::to_string(t.total_blob_count);
  return out + ",\"snapshots_count\":" + std::to_string(t.snapshots_count) + "}";
}

Status StatsCollector::Add(const Snapshot& snapshot) {
  ++totals_.snapshots_count;
  if (mode_ == StatsMode::kRawData) return CollectUsedBlobs(snapshot.tree);
  if (mode_ == StatsMode::kRestoreSize) {
    std::unordered_set<uint64_t> inodes;  // hard links: per snapshot
    return WalkRestoreSize(snapshot.tree, inodes);
  }
  std::unordered_set<Id> walked;  // restic's ignoreTrees: per snapshot
  return WalkByContents(snapshot.tree, "/", walked);
}

// Every node counts, as restic's callback counts each one it is handed;
// sizes count once per inode, except inode 0 (unknown) which always does.
Status StatsCollector::WalkRestoreSize(const Id& id, std::unordered_set<uint64_t>& inodes) {
  STASH_ASSIGN_OR_RETURN(Tree tree, LoadSortedTree(repo_, id));
  for (const Node& node : tree.nodes) {
    ++totals_.total_file_count;
    if (node.inode == 0 || inodes.insert(node.inode).second) totals_.total_size += node.size;
    if (node.type != NodeType::kDir) continue;
    if (!node.subtree) return NilSubtree(node, id.Hex());
    STASH_RETURN_IF_ERROR(WalkRestoreSize(*node.subtree, inodes));
  }
  return Status::Ok();
}

Status StatsCollector::WalkByContents(const Id& id, const std::string& prefix,
                                      std::unordered_set<Id>& walked) {
  STASH_ASSIGN_OR_RETURN(Tree tree, LoadSortedTree(repo_, id));
  for (const Node& node : tree.nodes) {
    std::string path = JoinPath(prefix, node.name);
    if (node.type != NodeType::kDir) {
      STASH_RETURN_IF_ERROR(CountContents(node, path, id));
      continue;
    }
    if (!node.subtree) return NilSubtree(node, path);
    // A directory whose tree was walked already in this snapshot is not
    // visited at all, not even its own node.
    if (!walked.insert(*node.subtree).second) continue;
    STASH_RETURN_IF_ERROR(CountContents(node, path, id));
    STASH_RETURN_IF_ERROR(WalkByContents(*node.subtree, path, walked));
  }
  return Status::Ok();
}

Status StatsCollector::CountContents(const Node& node, const std::string& path, const Id& parent) {
  if (!contents_seen_.insert(ContentsId(node)).second) return Status::Ok();
  if (mode_ == StatsMode::kFilesByContents) {
    totals_.total_size += node.size;
    ++totals_.total_file_count;
    return Status::Ok();
  }
  if (!node.content) return Status::Ok();
  // restic keys this by filepath.Join(path, name), the name twice; any
  // one-to-one key gives the same counts.
  std::string key = path + "/" + node.name;
  for (const Id& blob : *node.content) {
    auto [it, new_path] = path_blobs_.try_emplace(key);
    if (new_path) ++totals_.total_file_count;
    if (it->second.count(blob)) continue;
    auto where = repo_.index().Lookup(BlobType::kData, blob);
    if (!where) {
      return NotFound("blob " + blob.Hex() + " not found for tree " + parent.Hex());
    }
    totals_.total_size += where->blob.PlainLength();
    it->second.insert(blob);
    ++totals_.total_blob_count;
  }
  return Status::Ok();
}

// Trees are shared across snapshots, so each is read once in all.
Status StatsCollector::CollectUsedBlobs(const Id& id) {
  if (!used_trees_.insert(id).second) return Status::Ok();
  STASH_ASSIGN_OR_RETURN(Tree tree, repo_.LoadTree(id));
  for (const Node& node : tree.nodes) {
    if (node.type == NodeType::kFile && node.content) {
      used_data_.insert(node.content->begin(), node.content->end());
    } else if (node.type == NodeType::kDir) {
      if (!node.subtree) return NilSubtree(node, id.Hex());
      STASH_RETURN_IF_ERROR(CollectUsedBlobs(*node.subtree));
    }
  }
  return Status::Ok();
}

Result<StatsTotals> StatsCollector::Finish() {
  if (mode_ != StatsMode::kRawData) return totals_;
  StatsTotals t = totals_;
  for (auto [type, set] : {std::pair{BlobType::kTree, &used_trees_},
                           std::pair{BlobType::kData, &used_data_}}) {
    for (const Id& blob : *set) {
      auto where = repo_.index().Lookup(type, blob);
      if (!where) return NotFound(std::string(BlobTypeName(type)) + " blob " + blob.Hex() + " not found");
      t.total_size += where->blob.length;
      ++t.total_blob_count;
    }
  }
  return t;
}

}  // namespace stash
