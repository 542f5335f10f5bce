#include "engine/restorer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "engine/paths.h"
#include "engine/restore_files.h"

namespace stash {
namespace {

// Tree packs a restore keeps in memory: two of restic's or stash's 16 MiB
// packs, so a walk that moves between two packs does not read either twice.
constexpr uint64_t kTreePackCacheBytes = 32 << 20;

using restore_internal::ContentWriter;
using restore_internal::CreateFresh;
using restore_internal::Fd;
using restore_internal::Folder;
using restore_internal::RestoreLog;

std::string ErrnoText(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// A name is safe if it stays inside its folder.
bool SafeName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
}

struct timespec ToTimespec(const Timestamp& t) {
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(t.seconds);
  ts.tv_nsec = static_cast<long>(t.nanos);
  return ts;
}

// Walks the trees in order and creates every entry; file contents go to
// the ContentWriter. Every node and warning takes the next sequence number,
// which orders the report.
class TreeRestorer {
 public:
  TreeRestorer(Repository& repo, const RestoreOptions& options, RestoreLog& log,
               ContentWriter& content)
      : repo_(repo), options_(options), log_(log), content_(content) {}

  // Restores the nodes of `tree_id` into the open folder `folder`.
  //   location : the folder's path inside the snapshot ("/" at the top),
  //              what --include/--exclude patterns see
  //   out_path : the folder's path on disk, for messages and hard links
  // A tree that cannot be loaded is a warning for its folder, as restic has it.
  Status RestoreTree(const std::shared_ptr<Folder>& folder, const Id& tree_id,
                     const std::string& location, const std::string& out_path) {
    auto loaded = repo_.LoadTree(tree_id);
    if (!loaded.ok()) {
      Warn(out_path, loaded.error().message());
      return Status::Ok();
    }
    Tree& tree = *loaded;
    std::set<std::string> seen;
    for (Node& node : tree.nodes) {
      if (log_.failed()) return Status::Ok();  // a content thread hit a fatal error
      std::string out = out_path + "/" + node.name;
      if (!SafeName(node.name)) {
        Warn(out_path, "tree " + tree_id.Hex() + ": refusing unsafe file name \"" + node.name + "\"");
        continue;
      }
      if (!seen.insert(node.name).second) {
        Warn(out, "tree " + tree_id.Hex() + ": duplicate name, second entry skipped");
        continue;
      }
      std::string location_child = JoinPath(location, node.name);
      STASH_RETURN_IF_ERROR(RestoreNode(folder, node, location_child, std::move(out)));
    }
    return Status::Ok();
  }

  Status RestoreDirContents(const std::shared_ptr<Folder>& folder, const Id& tree_id,
                            const std::string& out_path) {
    return RestoreTree(folder, tree_id, "/", out_path);
  }

  uint64_t NextSeq() { return seq_++; }

 private:
  void Warn(const std::string& path, const std::string& message) {
    log_.Warn(NextSeq(), path, message);
  }

  // (selected, descend) as restic's restore filters decide them.
  std::pair<bool, bool> Select(const Node& node, const std::string& location) const {
    bool is_dir = node.type == NodeType::kDir;
    if (!options_.exclude.Empty() && options_.exclude.Match(location)) return {false, false};
    if (options_.include.Empty()) return {true, is_dir};
    bool selected = options_.include.Match(location);
    return {selected, is_dir && (selected || options_.include.ChildMayMatch(location))};
  }

  Status RestoreNode(const std::shared_ptr<Folder>& folder, Node& node,
                     const std::string& location, std::string out) {
    auto [selected, descend] = Select(node, location);
    if (node.type == NodeType::kDir) {
      if (!selected && !descend) return Status::Ok();
      return RestoreDir(*folder, node, location, std::move(out), selected);
    }
    if (!selected) return Status::Ok();
    switch (node.type) {
      case NodeType::kFile: return RestoreFile(folder, node, std::move(out));
      case NodeType::kSymlink: RestoreSymlink(*folder, node, out); break;
      case NodeType::kFifo:
      case NodeType::kDev:
      case NodeType::kCharDev: RestoreSpecial(*folder, node, out); break;
      default: break;  // sockets cannot be recreated; restic skips them too
    }
    return Status::Ok();
  }

  Status RestoreDir(Folder& parent, Node& node, const std::string& location, std::string out,
                    bool selected) {
    int dir = parent.fd.get();
    std::unique_lock<std::mutex> lock(parent.create_mu);
    if (::mkdirat(dir, node.name.c_str(), 0700) != 0 && errno != EEXIST) {
      Warn(out, ErrnoText("mkdir"));
      return Status::Ok();
    }
    lock.unlock();
    auto folder = restore_internal::OpenFolder(dir, node.name.c_str(), options_.restore_owner);
    if (!folder) {
      Warn(out, ErrnoText("open folder"));
      return Status::Ok();
    }
    if (!node.subtree) {
      Warn(out, "folder has no subtree");
      return Status::Ok();
    }
    Id subtree = *node.subtree;
    folder->out = std::move(out);
    folder->selected = selected;
    folder->node = std::move(node);
    Status walked = RestoreTree(folder, subtree, location, folder->out);
    if (!walked.ok()) log_.Fail(NextSeq(), walked.error());
    // Its metadata is set once the files queued for it exist too.
    folder->seq = NextSeq();
    restore_internal::ReleaseFolder(*folder, options_.restore_owner, log_);
    return walked;
  }

  Status RestoreFile(const std::shared_ptr<Folder>& folder, Node& node, std::string out) {
    int dir = folder->fd.get();
    uint64_t seq = NextSeq();
    if (node.links > 1) {
      std::unique_lock<std::mutex> lock(folder->create_mu);
      auto key = std::make_pair(node.device_id, node.inode);
      auto it = hardlinks_.find(key);
      if (it != hardlinks_.end()) {
        const char* first = it->second.c_str();
        if (CreateFresh(dir, node.name, [&] {
              return ::linkat(AT_FDCWD, first, dir, node.name.c_str(), 0);
            }) == 0) {
          return Status::Ok();
        }
      } else {
        // The first of a set of hard links is created here, so that the
        // others can link to it right away; a content thread fills it.
        hardlinks_.emplace(key, out);
        Fd fd(CreateFresh(dir, node.name, [&] {
          return ::openat(dir, node.name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        }));
        if (!fd.ok()) {
          log_.Warn(seq, out, ErrnoText("create"));
          return Status::Ok();
        }
        lock.unlock();
        return content_.Add(folder, std::move(node), std::move(out), seq, std::move(fd));
      }
    }
    return content_.Add(folder, std::move(node), std::move(out), seq);
  }

  void RestoreSymlink(Folder& folder, const Node& node, const std::string& out) {
    int dir = folder.fd.get();
    std::lock_guard<std::mutex> lock(folder.create_mu);
    if (CreateFresh(dir, node.name, [&] {
          return ::symlinkat(node.linktarget.c_str(), dir, node.name.c_str());
        }) != 0) {
      Warn(out, ErrnoText("symlink"));
      return;
    }
    if (options_.restore_owner &&
        ::fchownat(dir, node.name.c_str(), node.uid, node.gid, AT_SYMLINK_NOFOLLOW) != 0) {
      Warn(out, ErrnoText("lchown"));
    }
    struct timespec times[2] = {ToTimespec(node.atime), ToTimespec(node.mtime)};
    ::utimensat(dir, node.name.c_str(), times, AT_SYMLINK_NOFOLLOW);
    log_.CountOther();
  }

  void RestoreSpecial(Folder& folder, const Node& node, const std::string& out) {
    int dir = folder.fd.get();
    std::lock_guard<std::mutex> lock(folder.create_mu);
    mode_t type = node.type == NodeType::kFifo ? S_IFIFO
                  : node.type == NodeType::kDev ? S_IFBLK : S_IFCHR;
    if (CreateFresh(dir, node.name, [&] {
          return ::mknodat(dir, node.name.c_str(), type | 0600, static_cast<dev_t>(node.device));
        }) != 0) {
      Warn(out, ErrnoText("mknod"));
      return;
    }
    // O_PATH opens the node itself without blocking (a FIFO) or touching a device.
    Fd fd(::openat(dir, node.name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.ok()) return;
    std::string proc = "/proc/self/fd/" + std::to_string(fd.get());
    if (options_.restore_owner) ::fchownat(fd.get(), "", node.uid, node.gid, AT_EMPTY_PATH);
    ::chmod(proc.c_str(), UnixPermissionsFromGoMode(node.mode));
    struct timespec times[2] = {ToTimespec(node.atime), ToTimespec(node.mtime)};
    ::utimensat(AT_FDCWD, proc.c_str(), times, 0);
    log_.CountOther();
  }

  Repository& repo_;
  const RestoreOptions& options_;
  RestoreLog& log_;
  ContentWriter& content_;
  uint64_t seq_ = 0;
  std::map<std::pair<uint64_t, uint64_t>, std::string> hardlinks_;
};

Status MakeTargetDirs(const std::string& target) {
  std::string path;
  for (const auto& part : PathComponents(target)) {
    path += "/" + part;
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
      return IOError("create target folder " + path + ": " + std::strerror(errno));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Id> FindSubtree(Repository& repo, const Id& root, const std::string& subfolder) {
  Id current = root;
  for (const auto& part : PathComponents(subfolder)) {
    STASH_ASSIGN_OR_RETURN(Tree tree, repo.LoadTree(current));
    const Node* found = nullptr;
    for (const auto& n : tree.nodes) {
      if (n.name == part) found = &n;
    }
    if (!found) return NotFound("path \"" + subfolder + "\" not found in snapshot");
    if (found->type != NodeType::kDir || !found->subtree) {
      return Invalid("path \"" + subfolder + "\" in snapshot is not a folder");
    }
    current = *found->subtree;
  }
  return current;
}

Result<RestoreResult> Restore(Repository& repo, const Snapshot& snapshot,
                              const RestoreOptions& options) {
  if (options.target.empty()) return Invalid("please specify a target folder with --target");
  // The walk reads every tree: a tree pack in one request, not one per folder.
  repo.CacheTreePacks(kTreePackCacheBytes);
  struct DropCache {
    Repository& repo;
    ~DropCache() { repo.CacheTreePacks(0); }
  } drop_cache{repo};
  STASH_ASSIGN_OR_RETURN(Id tree, FindSubtree(repo, snapshot.tree, options.subfolder));
  std::string target = AbsolutePath(options.target);
  STASH_RETURN_IF_ERROR(MakeTargetDirs(target));
  // The target itself may be reached through symlinks; its metadata is left alone.
  auto root = restore_internal::OpenFolder(AT_FDCWD, target.c_str(), options.restore_owner,
                                          /*follow=*/true);
  if (!root) return IOError("open target folder " + target + ": " + std::strerror(errno));
  RestoreLog log;
  restore_internal::ContentLimits limits;
  limits.threads = options.threads;
  {
    ContentWriter content(repo, options.restore_owner, log, limits);
    TreeRestorer restorer(repo, options, log, content);
    Status walked = restorer.RestoreDirContents(root, tree, target == "/" ? "" : target);
    if (!walked.ok()) log.Fail(restorer.NextSeq(), walked.error());
    restore_internal::ReleaseFolder(*root, options.restore_owner, log);
    content.Finish();
  }
  if (auto error = log.TakeError()) return *error;
  return log.TakeResult();
}

}  // namespace stash
