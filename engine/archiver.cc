#include "engine/archiver.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <map>

#include "engine/node_metadata.h"
#include "engine/paths.h"

namespace stash {
namespace {

// The shape of the snapshot's top levels, built from the targets before
// anything is read (restic's archiver.Tree).
struct TargetTree {
  std::string path;       // set for a target: back it up whole
  std::string info_path;  // set for an intermediate folder: take its metadata
  std::string root;       // folder holding the first component
  std::map<std::string, TargetTree> children;
};

Status AddBelow(TargetTree& tree, const std::string& target, const std::string& root,
                const std::vector<std::string>& pc, size_t i) {
  const std::string& name = pc[i];
  if (i + 1 == pc.size()) {
    auto& leaf = tree.children[name];
    if (!leaf.path.empty()) return Invalid("target " + target + " is given twice");
    leaf.path = target;
    return Status::Ok();
  }
  auto& node = tree.children[name];
  std::string subroot = JoinPath(root, name);
  node.info_path = subroot;
  return AddBelow(node, target, subroot, pc, i + 1);
}

Status AddTarget(TargetTree& top, const std::string& target) {
  auto pc = PathComponents(target);
  if (pc.empty()) return Invalid("invalid target " + target + " (no path components)");
  std::string root = RootDirectory(target);
  // Top-level names from different roots ("/x" and "../x") get "-1", "-2".
  std::string name = pc[0];
  TargetTree node;
  node.root = root;
  for (int i = 1;; ++i) {
    auto it = top.children.find(name);
    if (it == top.children.end()) break;
    if (it->second.root == root) {
      node = it->second;
      break;
    }
    name = pc[0] + "-" + std::to_string(i);
  }
  if (pc.size() == 1) {
    if (!node.path.empty()) return Invalid("target " + target + " is given twice");
    node.path = target;
  } else {
    std::string subroot = JoinPath(root, pc[0]);
    STASH_RETURN_IF_ERROR(AddBelow(node, target, subroot, pc, 1));
    node.info_path = subroot;
  }
  top.children[name] = std::move(node);
  return Status::Ok();
}

// "." and "../.." have no components of their own: back up their entries.
Result<std::vector<std::string>> ResolveRelativeTargets(const std::vector<std::string>& targets) {
  std::vector<std::string> out;
  for (const auto& t : targets) {
    std::string clean = CleanPath(t);
    if (!PathComponents(clean).empty()) {
      out.push_back(clean);
      continue;
    }
    DIR* d = ::opendir(clean.c_str());
    if (!d) return IOError("open " + clean + ": " + std::strerror(errno));
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) out.push_back(JoinPath(clean, n));
  }
  return out;
}

class TreeSaver {
 public:
  TreeSaver(Repository& repo, const ChunkerTables& tables, const BackupOptions& options,
            const BackupObserver& observer, BackupResult& result)
      : repo_(repo), tables_(tables), options_(options), observer_(observer), result_(result) {}

  // Builds the tree for the target layout; returns its id.
  Result<Id> SaveTargets(const TargetTree& tree) {
    Tree out;
    for (const auto& [name, child] : tree.children) {
      if (!child.path.empty()) {
        struct stat st;
        if (::lstat(child.path.c_str(), &st) != 0) {
          return IOError("lstat " + child.path + ": " + std::strerror(errno));
        }
        STASH_ASSIGN_OR_RETURN(auto node, SaveEntry(child.path, name, st));
        if (node) out.nodes.push_back(std::move(*node));
        continue;
      }
      struct stat st;
      if (::lstat(child.info_path.c_str(), &st) != 0) {
        return IOError("lstat " + child.info_path + ": " + std::strerror(errno));
      }
      STASH_ASSIGN_OR_RETURN(Node node, NodeFor(child.info_path, name, st));
      STASH_ASSIGN_OR_RETURN(node.subtree, SaveTargets(child));
      out.nodes.push_back(std::move(node));
    }
    return SaveTree(out);
  }

 private:
  Result<Node> NodeFor(const std::string& path, const std::string& name, const struct stat& st) {
    auto node = NodeFromStat(path, name, st);
    if (node.ok() && !options_.with_atime) node->atime = node->mtime;
    return node;
  }

  Result<Id> SaveTree(const Tree& tree) {
    size_t before = repo_.write_stats().tree_blobs;
    STASH_ASSIGN_OR_RETURN(Id id, repo_.SaveTree(tree));
    result_.summary.tree_blobs += repo_.write_stats().tree_blobs - before;
    return id;
  }

  void Warn(const std::string& path, const std::string& message) {
    result_.warnings.push_back({path, message});
  }

  // A node for one file system entry, or nullopt if it is excluded or could
  // not be read (then a warning is recorded). Errors are repository errors.
  Result<std::optional<Node>> SaveEntry(const std::string& path, const std::string& name,
                                        const struct stat& st) {
    if (!options_.excludes.Empty() && options_.excludes.Match(AbsolutePath(path))) {
      return std::optional<Node>();
    }
    // restic 0.14 leaves sockets out of snapshots; so do we, for equal trees.
    if (S_ISSOCK(st.st_mode)) return std::optional<Node>();
    auto node = NodeFor(path, name, st);
    if (!node.ok()) {
      Warn(path, node.error().message());
      return std::optional<Node>();
    }
    if (node->type == NodeType::kFile) {
      auto saved = SaveFileContent(path, *node);
      if (!saved.ok()) return saved.error();
      if (!*saved) return std::optional<Node>();
    } else if (node->type == NodeType::kDir) {
      auto subtree = SaveDir(path);
      if (!subtree.ok()) return subtree.error();
      node->subtree = *subtree;
      result_.summary.dirs_new++;
    }
    return std::optional<Node>(std::move(*node));
  }

  Result<Id> SaveDir(const std::string& path) {
    std::vector<std::string> names;
    if (DIR* d = ::opendir(path.c_str())) {
      while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(n);
      }
      ::closedir(d);
    } else {
      Warn(path, std::string("open: ") + std::strerror(errno));
    }
    std::sort(names.begin(), names.end());
    Tree tree;
    for (const auto& n : names) {
      std::string child = path == "/" ? "/" + n : path + "/" + n;
      struct stat st;
      if (::lstat(child.c_str(), &st) != 0) {
        Warn(child, std::string("lstat: ") + std::strerror(errno));
        continue;
      }
      STASH_ASSIGN_OR_RETURN(auto node, SaveEntry(child, n, st));
      if (node) tree.nodes.push_back(std::move(*node));
    }
    return SaveTree(tree);
  }

  // Chunks a file into data blobs; false (with a warning) if unreadable.
  Result<bool> SaveFileContent(const std::string& path, Node& node) {
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
    if (fd < 0 && errno == EPERM) fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      Warn(path, std::string("open: ") + std::strerror(errno));
      return false;
    }
    std::vector<Id> content;
    uint64_t size = 0;
    Chunker chunker(tables_);
    Bytes chunk;
    chunk.reserve(kChunkMinSize);
    Bytes buf(1 << 20);
    while (true) {
      ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        Warn(path, std::string("read: ") + std::strerror(errno));
        ::close(fd);
        return false;
      }
      if (n == 0) break;
      size += static_cast<uint64_t>(n);
      ByteView rest(buf.data(), static_cast<size_t>(n));
      while (!rest.empty()) {
        size_t used = chunker.Find(rest);
        chunk.insert(chunk.end(), rest.begin(), rest.begin() + used);
        rest = rest.subspan(used);
        if (chunker.AtBoundary()) {
          auto id = SaveData(chunk);
          if (!id.ok()) { ::close(fd); return id.error(); }
          content.push_back(*id);
          chunk.clear();
        }
      }
    }
    ::close(fd);
    if (!chunk.empty()) {
      STASH_ASSIGN_OR_RETURN(Id id, SaveData(chunk));
      content.push_back(id);
    }
    node.size = size;
    node.content = std::move(content);
    result_.summary.files_new++;
    result_.summary.total_files_processed++;
    result_.summary.total_bytes_processed += size;
    if (observer_) observer_(path, size);
    return true;
  }

  Result<Id> SaveData(const Bytes& chunk) {
    Id id = Sha256(chunk);
    STASH_ASSIGN_OR_RETURN(bool added, repo_.SaveBlob(BlobType::kData, id, chunk));
    if (added) {
      result_.summary.data_blobs++;
      result_.summary.data_added += chunk.size();
    }
    return id;
  }

  Repository& repo_;
  const ChunkerTables& tables_;
  const BackupOptions& options_;
  const BackupObserver& observer_;
  BackupResult& result_;
};

std::string CurrentUserName() {
  std::string name = UserName(::getuid());
  return name;
}

}  // namespace

Result<BackupResult> Backup(Repository& repo, const ChunkerTables& chunker,
                            const BackupOptions& options, const BackupObserver& observer) {
  auto start = std::chrono::steady_clock::now();
  if (options.targets.empty()) return Invalid("nothing to back up: no paths given");
  Snapshot snapshot;
  snapshot.time = options.time ? *options.time : Timestamp::Now();
  for (const auto& t : options.targets) {
    struct stat st;
    if (::lstat(t.c_str(), &st) != 0) {
      return NotFound("backup target " + t + ": " + std::strerror(errno));
    }
    snapshot.paths.push_back(AbsolutePath(t));
  }
  STASH_ASSIGN_OR_RETURN(auto targets, ResolveRelativeTargets(options.targets));
  TargetTree top;
  for (const auto& t : targets) STASH_RETURN_IF_ERROR(AddTarget(top, t));

  BackupResult result;
  TreeSaver saver(repo, chunker, options, observer, result);
  STASH_ASSIGN_OR_RETURN(snapshot.tree, saver.SaveTargets(top));
  STASH_RETURN_IF_ERROR(repo.Flush());

  snapshot.hostname = options.hostname;
  snapshot.username = CurrentUserName();
  snapshot.uid = ::getuid();
  snapshot.gid = ::getgid();
  snapshot.tags = options.tags;
  STASH_ASSIGN_OR_RETURN(result.summary.snapshot_id, repo.SaveSnapshot(snapshot));
  result.summary.total_duration =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace stash
