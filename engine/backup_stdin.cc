#include "engine/backup_stdin.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>

#include "engine/go_errors.h"
#include "engine/node_metadata.h"
#include "engine/paths.h"

namespace stash {
namespace {

constexpr size_t kReadSize = 1 << 20;

// Node fields restic fills for its reader file system's entries.
Node MadeUpNode(const std::string& name, NodeType type, uint32_t mode, const Timestamp& t,
                bool with_atime) {
  Node n;
  n.name = name;
  n.type = type;
  n.mode = mode;
  n.mtime = n.ctime = t;
  if (!with_atime) n.atime = t;  // restic stores mtime as atime; with atime, none is known
  n.uid = ::getuid();
  n.gid = ::getgid();
  return n;
}

struct StreamFile {
  std::vector<Id> content;
  uint64_t size = 0;
};

// Reads, chunks and stores the stream, one chunk at a time.
Result<StreamFile> SaveStream(Repository& repo, const ChunkerTables& tables, int fd,
                              const std::string& path, BackupSummary& summary) {
  StreamFile out;
  Chunker chunker(tables);
  Bytes buf;
  size_t scanned = 0;
  auto store = [&](ByteView chunk) -> Status {
    Id id = Sha256(chunk);
    STASH_ASSIGN_OR_RETURN(bool added, repo.SaveBlob(BlobType::kData, id, chunk));
    if (added) {
      summary.data_blobs++;
      summary.data_added += chunk.size();
    }
    out.content.push_back(id);
    return Status::Ok();
  };
  std::unique_ptr<uint8_t[]> raw(new uint8_t[kReadSize]);
  while (true) {
    ssize_t n = ::read(fd, raw.get(), kReadSize);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IOError(GoPathError("read", path, errno));
    if (n == 0) break;
    buf.insert(buf.end(), raw.get(), raw.get() + n);
    out.size += static_cast<uint64_t>(n);
    while (scanned < buf.size()) {
      scanned += chunker.Find(ByteView(buf).subspan(scanned));
      if (!chunker.AtBoundary()) continue;
      STASH_RETURN_IF_ERROR(store(ByteView(buf).subspan(0, scanned)));
      buf.erase(buf.begin(), buf.begin() + static_cast<long>(scanned));
      scanned = 0;
    }
  }
  if (!buf.empty()) STASH_RETURN_IF_ERROR(store(buf));
  return out;
}

Result<Id> StoreTree(Repository& repo, const Tree& tree, BackupSummary& summary) {
  Bytes bytes = EncodeTree(tree);
  Id id = Sha256(bytes);
  STASH_ASSIGN_OR_RETURN(bool added, repo.SaveBlob(BlobType::kTree, id, bytes));
  if (added) {
    summary.tree_blobs++;
    summary.data_added += bytes.size();
  }
  return id;
}

// The root tree: `file` (if any) under made-up folders named by `parts`.
Result<Id> BuildTrees(Repository& repo, const std::vector<std::string>& parts,
                      std::optional<Node> file, bool with_atime, BackupSummary& summary) {
  Tree tree;
  if (file) tree.nodes.push_back(std::move(*file));
  for (size_t i = parts.size() - 1; i-- > 0;) {
    STASH_ASSIGN_OR_RETURN(Id subtree, StoreTree(repo, tree, summary));
    Node dir = MadeUpNode(parts[i], NodeType::kDir, gomode::kDir | 0755, Timestamp::Now(), with_atime);
    dir.subtree = subtree;
    summary.dirs_new++;
    tree.nodes = {std::move(dir)};
  }
  if (tree.nodes.empty()) return Invalid("snapshot is empty");
  return StoreTree(repo, tree, summary);
}

}  // namespace

Result<BackupResult> BackupStream(Repository& repo, const ChunkerTables& chunker,
                                  const BackupOptions& options, int fd, const std::string& name,
                                  const std::function<Status()>& at_end) {
  auto start = std::chrono::steady_clock::now();
  std::string path = CleanPath("/" + name);
  std::vector<std::string> parts = PathComponents(path);
  if (parts.empty()) return Invalid("--stdin-filename \"" + name + "\" names no file");
  const Timestamp started = Timestamp::Now();
  const uint64_t packed_before = repo.write_stats().data_added_packed;
  Snapshot snapshot;
  snapshot.time = options.time ? *options.time : started;
  snapshot.paths = {path};

  BackupResult result;
  std::optional<Node> file;
  if (!options.selection || options.selection->SelectByName(path)) {
    STASH_ASSIGN_OR_RETURN(StreamFile saved, SaveStream(repo, chunker, fd, path, result.summary));
    if (saved.size == 0) {
      result.warnings.push_back({path, "read " + path + ": no data read"});
      if (options.on_warning) options.on_warning(result.warnings.back());
    } else {
      file = MadeUpNode(parts.back(), NodeType::kFile, 0644, snapshot.time, options.with_atime);
      file->size = saved.size;
      file->content = std::move(saved.content);
      result.summary.files_new = result.summary.total_files_processed = 1;
      result.summary.total_bytes_processed = saved.size;
    }
  }
  if (at_end) STASH_RETURN_IF_ERROR(at_end());
  STASH_ASSIGN_OR_RETURN(snapshot.tree, BuildTrees(repo, parts, std::move(file), options.with_atime,
                                                   result.summary));
  STASH_RETURN_IF_ERROR(repo.Flush());
  STASH_ASSIGN_OR_RETURN(result.summary.snapshot_id,
                         SaveBackupSnapshot(repo, options, started, packed_before, snapshot, result.summary));
  result.summary.total_duration =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace stash
