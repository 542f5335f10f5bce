#include "engine/restorer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "engine/paths.h"

namespace stash {
namespace {

std::string ErrnoText(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { if (fd_ >= 0) ::close(fd_); }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&&) = delete;
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
 private:
  int fd_;
};

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

class TreeRestorer {
 public:
  TreeRestorer(Repository& repo, const RestoreOptions& options, RestoreResult& result)
      : repo_(repo), options_(options), result_(result) {}

  // Restores the nodes of `tree_id` into the open folder `dir`.
  //   location : the folder's path inside the snapshot ("/" at the top),
  //              what --include/--exclude patterns see
  //   out_path : the folder's path on disk, for messages and hard links
  Status RestoreTree(int dir, const Id& tree_id, const std::string& location,
                     const std::string& out_path) {
    STASH_ASSIGN_OR_RETURN(Tree tree, repo_.LoadTree(tree_id));
    std::set<std::string> seen;
    for (const Node& node : tree.nodes) {
      std::string out = out_path + "/" + node.name;
      if (!SafeName(node.name)) {
        Warn(out_path, "tree " + tree_id.Hex() + ": refusing unsafe file name \"" + node.name + "\"");
        continue;
      }
      if (!seen.insert(node.name).second) {
        Warn(out, "tree " + tree_id.Hex() + ": duplicate name, second entry skipped");
        continue;
      }
      STASH_RETURN_IF_ERROR(RestoreNode(dir, node, JoinPath(location, node.name), out));
    }
    return Status::Ok();
  }

  Status RestoreDirContents(int dir, const Id& tree_id, const std::string& out_path) {
    return RestoreTree(dir, tree_id, "/", out_path);
  }

 private:
  void Warn(const std::string& path, const std::string& message) {
    result_.warnings.push_back({path, message});
  }

  // (selected, descend) as restic's restore filters decide them.
  std::pair<bool, bool> Select(const Node& node, const std::string& location) const {
    bool is_dir = node.type == NodeType::kDir;
    if (!options_.exclude.Empty() && options_.exclude.Match(location)) return {false, false};
    if (options_.include.Empty()) return {true, is_dir};
    bool selected = options_.include.Match(location);
    return {selected, is_dir && (selected || options_.include.ChildMayMatch(location))};
  }

  Status RestoreNode(int dir, const Node& node, const std::string& location,
                     const std::string& out) {
    auto [selected, descend] = Select(node, location);
    if (node.type == NodeType::kDir) {
      if (!selected && !descend) return Status::Ok();
      return RestoreDir(dir, node, location, out, selected);
    }
    if (!selected) return Status::Ok();
    switch (node.type) {
      case NodeType::kFile: return RestoreFile(dir, node, out);
      case NodeType::kSymlink: RestoreSymlink(dir, node, out); break;
      case NodeType::kFifo:
      case NodeType::kDev:
      case NodeType::kCharDev: RestoreSpecial(dir, node, out); break;
      default: break;  // sockets cannot be recreated; restic skips them too
    }
    return Status::Ok();
  }

  // Removes whatever non-folder entry stands at `name`, so we never write
  // through an existing symlink.
  void ClearEntry(int dir, const std::string& name) {
    struct stat st;
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
      ::unlinkat(dir, name.c_str(), 0);
    }
  }

  Status RestoreDir(int dir, const Node& node, const std::string& location,
                    const std::string& out, bool selected) {
    if (::mkdirat(dir, node.name.c_str(), 0700) != 0 && errno != EEXIST) {
      Warn(out, ErrnoText("mkdir"));
      return Status::Ok();
    }
    Fd sub(::openat(dir, node.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub.ok()) {
      Warn(out, ErrnoText("open folder"));
      return Status::Ok();
    }
    if (!node.subtree) {
      Warn(out, "folder has no subtree");
      return Status::Ok();
    }
    STASH_RETURN_IF_ERROR(RestoreTree(sub.get(), *node.subtree, location, out));
    if (selected) {
      ApplyMetadata(sub.get(), node, out);
      result_.summary.dirs++;
    }
    return Status::Ok();
  }

  Status RestoreFile(int dir, const Node& node, const std::string& out) {
    ClearEntry(dir, node.name);
    if (node.links > 1) {
      auto key = std::make_pair(node.device_id, node.inode);
      auto it = hardlinks_.find(key);
      if (it != hardlinks_.end()) {
        if (::linkat(AT_FDCWD, it->second.c_str(), dir, node.name.c_str(), 0) == 0) return Status::Ok();
      } else {
        hardlinks_.emplace(key, out);
      }
    }
    Fd fd(::openat(dir, node.name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.ok()) {
      Warn(out, ErrnoText("create"));
      return Status::Ok();
    }
    uint64_t written = 0;
    for (const Id& blob : node.content.value_or(std::vector<Id>{})) {
      auto data = repo_.LoadBlob(BlobType::kData, blob);
      if (!data.ok()) return data.error().Wrap(out);
      if (!WriteAll(fd.get(), *data)) {
        Warn(out, ErrnoText("write"));
        return Status::Ok();
      }
      written += data->size();
    }
    ApplyMetadata(fd.get(), node, out);
    result_.summary.files++;
    result_.summary.bytes += written;
    return Status::Ok();
  }

  static bool WriteAll(int fd, const Bytes& data) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd, data.data() + done, data.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      done += static_cast<size_t>(n);
    }
    return true;
  }

  void RestoreSymlink(int dir, const Node& node, const std::string& out) {
    ClearEntry(dir, node.name);
    if (::symlinkat(node.linktarget.c_str(), dir, node.name.c_str()) != 0) {
      Warn(out, ErrnoText("symlink"));
      return;
    }
    if (options_.restore_owner &&
        ::fchownat(dir, node.name.c_str(), node.uid, node.gid, AT_SYMLINK_NOFOLLOW) != 0) {
      Warn(out, ErrnoText("lchown"));
    }
    struct timespec times[2] = {ToTimespec(node.atime), ToTimespec(node.mtime)};
    ::utimensat(dir, node.name.c_str(), times, AT_SYMLINK_NOFOLLOW);
    result_.summary.other++;
  }

  void RestoreSpecial(int dir, const Node& node, const std::string& out) {
    ClearEntry(dir, node.name);
    mode_t type = node.type == NodeType::kFifo ? S_IFIFO
                  : node.type == NodeType::kDev ? S_IFBLK : S_IFCHR;
    if (::mknodat(dir, node.name.c_str(), type | 0600, static_cast<dev_t>(node.device)) != 0) {
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
    result_.summary.other++;
  }

  // Owner before mode (chown clears set-uid bits), times last.
  void ApplyMetadata(int fd, const Node& node, const std::string& out) {
    if (options_.restore_owner && ::fchown(fd, node.uid, node.gid) != 0) Warn(out, ErrnoText("chown"));
    if (::fchmod(fd, UnixPermissionsFromGoMode(node.mode)) != 0) Warn(out, ErrnoText("chmod"));
    for (const auto& x : node.extended_attributes) {
      ::fsetxattr(fd, x.name.c_str(), x.value.data(), x.value.size(), 0);
    }
    struct timespec times[2] = {ToTimespec(node.atime), ToTimespec(node.mtime)};
    if (::futimens(fd, times) != 0) Warn(out, ErrnoText("set times"));
  }

  Repository& repo_;
  const RestoreOptions& options_;
  RestoreResult& result_;
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
  STASH_ASSIGN_OR_RETURN(Id tree, FindSubtree(repo, snapshot.tree, options.subfolder));
  std::string target = AbsolutePath(options.target);
  STASH_RETURN_IF_ERROR(MakeTargetDirs(target));
  Fd dir(::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.ok()) return IOError("open target folder " + target + ": " + std::strerror(errno));
  RestoreResult result;
  TreeRestorer restorer(repo, options, result);
  STASH_RETURN_IF_ERROR(restorer.RestoreDirContents(dir.get(), tree, target == "/" ? "" : target));
  return result;
}

}  // namespace stash
