#include "engine/archiver.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <map>
#include <memory>

#include "engine/backup_scan.h"
#include "engine/buffer_pool.h"
#include "engine/go_errors.h"
#include "engine/node_metadata.h"
#include "engine/open_dir.h"
#include "engine/paths.h"
#include "engine/snapshot_select.h"
#include "engine/target_tree.h"
#include "base/thread_pool.h"

namespace stash {
namespace {

constexpr size_t kReadSize = BufferPool::kReadSize;
// Files and blobs smaller than this are read or stored by the thread that
// meets them instead of being queued for a worker.
constexpr size_t kInlineSize = 64 << 10;

// What reading one file produced.
struct FileOutcome {
  bool ok = false;
  std::string warning;
  std::vector<Id> content;
  uint64_t size = 0;
};

// A folder being saved. Its nodes are known once it is walked; file
// contents and subtrees arrive later from other threads. When the last has
// arrived, the tree is stored and the folder's parent is told.
struct FolderJob {
  using Done = std::function<void(FolderJob& self, Result<Id>)>;
  explicit FolderJob(Done d) : done(std::move(d)) {}

  std::mutex mu;               // guards everything below but `done`
  Tree tree;
  // The folder's tree in the parent snapshot: when the new one comes out
  // the same, its id is reused instead of encoding and hashing it again.
  std::optional<Tree> parent;
  Id parent_id;
  std::vector<bool> drop;      // files that could not be read
  int outstanding = 1;         // children not arrived yet, plus the walk itself
  bool unreadable = false;     // could not be listed: left out of its parent
  const Done done;
};
using FolderPtr = std::shared_ptr<FolderJob>;

// One backup run. Folders are walked by a small pool (newest first, so the
// walk stays close to depth first and few folders are open at once), files
// are read and chunked by another, blobs compressed and encrypted by a
// third; nothing waits for a folder's files before walking on, as restic's
// archiver does not.
class BackupRun {
 public:
  BackupRun(Repository& repo, const ChunkerTables& tables, const BackupOptions& options,
            BackupProgress* progress, BackupResult& result)
      : repo_(repo), tables_(tables), opt_(options), progress_(progress), result_(result),
        buffers_(options.file_workers + options.blob_workers + options.walk_workers),
        blobs_(options.blob_workers, options.blob_workers),
        files_(options.file_workers, options.file_workers * 4),
        walkers_(options.walk_workers, 0, ThreadPool::Order::kLifo) {}

  // The tree of the targets (folders with a path are walked in full; the
  // others only lead to them), built on the calling thread.
  // A top tree that ends up empty (every target left out) is an error.
  Result<Id> SaveTargets(const TargetTree& tree, const std::optional<Id>& parent_tree, bool top) {
    auto old = LoadParentTree(parent_tree);
    auto result = std::make_shared<std::promise<Result<Id>>>();
    auto job = std::make_shared<FolderJob>([result, top](FolderJob& self, Result<Id> id) {
      if (top && id.ok() && self.tree.nodes.empty()) id = Invalid("snapshot is empty");
      result->set_value(std::move(id));
    });
    for (const auto& [name, child] : tree.children) {
      const Node* prev = Find(old, name);
      if (!child.path.empty()) {
        AddTarget(child.path, name, prev, job);
        continue;
      }
      struct stat st;
      if (::lstat(child.info_path.c_str(), &st) != 0) {
        SetError(IOError(GoPathError("lstat", child.info_path, errno)));
        break;
      }
      auto node = NodeFor(child.info_path, name, st, prev);
      if (!node.ok()) {
        SetError(node.error());
        break;
      }
      const FolderCount count = FolderCount::Compare(prev, *node);
      auto subtree = SaveTargets(child, SubtreeOf(prev), false);
      if (!subtree.ok()) {
        SetError(subtree.error());
        break;
      }
      Count(count.Counter(*subtree));
      node->subtree = *subtree;
      Append(job, std::move(*node), false);
    }
    ChildDone(job);
    return result->get_future().get();
  }

  // A target is left out like any entry (by name, then by its metadata);
  // one that cannot be stat'ed is a warning, as restic reports it.
  void AddTarget(const std::string& path, const std::string& name, const Node* prev, const FolderPtr& job) {
    std::string abs = AbsolutePath(path);
    if (Selection() && !Selection()->SelectByName(abs)) return;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
      Warn(path, GoPathError("lstat", path, errno));
      return;
    }
    AddEntry(path, abs, name, st, prev, job);
  }

  // Waits for every queued folder, file and blob; the first repository
  // error fails the run.
  Status Finish() {
    walkers_.Wait();
    files_.Wait();
    blobs_.Wait();
    if (auto error = FirstError()) return *error;
    return Status::Ok();
  }

 private:
  // The node for an entry; `prev` is its node in the parent snapshot, if any.
  Result<Node> NodeFor(const std::string& path, const std::string& name, const struct stat& st,
                       const Node* prev) {
    auto node = NodeFromStat(path, name, st, Xattrs::kLeave);
    if (!node.ok()) return node;
    if (!opt_.with_atime) node->atime = node->mtime;
    if (SameInodeChange(*node, prev)) {
      node->extended_attributes = prev->extended_attributes;
    } else {
      node->extended_attributes = ReadXattrs(path, node->type);
    }
    return node;
  }

  // Setting or removing an xattr changes the inode's ctime, so an entry
  // whose inode, device and ctime match its parent node has the parent's
  // xattrs: copying them skips llistxattr, an eighth of an unchanged
  // backup's time. Not trusted when the user said ctimes or inodes are not.
  bool SameInodeChange(const Node& now, const Node* prev) const {
    if (!prev || opt_.ignore_ctime || opt_.ignore_inode) return false;
    return prev->type == now.type && prev->inode == now.inode && prev->device_id == now.device_id &&
           prev->ctime == now.ctime;
  }

  BackupSelection* Selection() const { return opt_.selection.get(); }

  std::optional<Tree> LoadParentTree(const std::optional<Id>& id) {
    if (!id) return std::nullopt;
    auto tree = repo_.LoadTree(*id);
    if (!tree.ok()) return std::nullopt;  // a broken parent only costs speed
    return std::move(*tree);
  }

  static const Node* Find(const std::optional<Tree>& tree, const std::string& name) {
    if (!tree) return nullptr;
    auto it = std::lower_bound(tree->nodes.begin(), tree->nodes.end(), name,
                               [](const Node& n, const std::string& v) { return n.name < v; });
    return it != tree->nodes.end() && it->name == name ? &*it : nullptr;
  }

  static std::optional<Id> SubtreeOf(const Node* n) {
    if (n && n->type == NodeType::kDir) return n->subtree;
    return std::nullopt;
  }

  void Warn(const std::string& path, const std::string& message) {
    std::lock_guard<std::mutex> lock(mu_);
    result_.warnings.push_back({path, message});
    if (opt_.on_warning) opt_.on_warning(result_.warnings.back());
    if (progress_) progress_->errors++;
  }

  void SetError(const Error& e) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_) error_ = e;
  }

  std::optional<Error> FirstError() {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }

  bool Failed() { return FirstError().has_value(); }

  // Bumps a summary counter; they are shared by every thread.
  void Count(uint64_t BackupSummary::*counter, uint64_t n = 1) {
    std::lock_guard<std::mutex> lock(mu_);
    result_.summary.*counter += n;
  }

  // How restic counts a folder against the parent snapshot's entry of that
  // name: new without one, unmodified when the whole node (metadata and
  // subtree) is the same, else changed. Known before the folder is walked
  // but for its subtree: `Compare` then `Count`.
  struct FolderCount {
    bool had_entry = false, same_metadata = false;
    std::optional<Id> prev_subtree;

    static FolderCount Compare(const Node* prev, const Node& node) {
      FolderCount c;
      c.had_entry = prev != nullptr;
      if (!prev) return c;
      Node probe = node;
      probe.subtree = prev->subtree;
      c.same_metadata = SameEncoding(*prev, probe);
      c.prev_subtree = prev->subtree;
      return c;
    }
    uint64_t BackupSummary::*Counter(const Id& subtree) const {
      if (!had_entry) return &BackupSummary::dirs_new;
      return same_metadata && prev_subtree == subtree ? &BackupSummary::dirs_unmodified
                                                       : &BackupSummary::dirs_changed;
    }
  };

  Result<Id> SaveTree(const Tree& tree) {
    Bytes bytes = EncodeTree(tree);
    Id id = Sha256(bytes);
    STASH_ASSIGN_OR_RETURN(bool added, repo_.SaveBlob(BlobType::kTree, id, bytes));
    if (added) {
      Count(&BackupSummary::tree_blobs);
      Count(&BackupSummary::data_added, bytes.size());
    }
    return id;
  }

  bool Unchanged(const Node& now, const Node* old) {
    if (!old || old->type != NodeType::kFile || !old->content) return false;
    if (old->mtime != now.mtime || old->size != now.size) return false;
    if (!opt_.ignore_ctime && old->ctime != now.ctime) return false;
    if (!opt_.ignore_inode && old->inode != now.inode) return false;
    for (const Id& blob : *old->content) {
      if (!repo_.HasBlob(BlobType::kData, blob)) return false;
    }
    return true;
  }

  // Appends `node` to `job`; returns its index. An `incomplete` node (a
  // folder still walked, a file still read) holds the folder open until
  // the caller's ChildDone.
  static size_t Append(const FolderPtr& job, Node node, bool incomplete = true) {
    std::lock_guard<std::mutex> lock(job->mu);
    job->tree.nodes.push_back(std::move(node));
    job->drop.push_back(false);
    if (incomplete) ++job->outstanding;
    return job->tree.nodes.size() - 1;
  }

  // One child of `job` (or its walk) has arrived; the last one stores the
  // folder's tree, without unreadable files, and tells its parent.
  void ChildDone(const FolderPtr& job) {
    {
      std::lock_guard<std::mutex> lock(job->mu);
      if (--job->outstanding > 0) return;
      size_t keep = 0;
      for (size_t i = 0; i < job->tree.nodes.size(); ++i) {
        if (job->drop[i]) continue;
        if (keep != i) job->tree.nodes[keep] = std::move(job->tree.nodes[i]);  // never self-move
        ++keep;
      }
      job->tree.nodes.resize(keep);
    }
    if (auto error = FirstError()) {
      job->done(*job, *error);  // not under mu_: the parent's callback takes it
      return;
    }
    // An unreadable folder is dropped by its parent: no tree to store.
    if (job->unreadable) {
      job->done(*job, Id());
    } else if (job->parent && SameEncoding(*job->parent, job->tree)) {
      job->done(*job, job->parent_id);
    } else {
      job->done(*job, SaveTree(job->tree));
    }
  }

  // Adds the node for one entry to `job`: a folder is walked and a file
  // whose content must be read is read later, each completing its node.
  // `abs` is `path` made absolute, what the selection sees.
  void AddEntry(const std::string& path, const std::string& abs, const std::string& name,
                const struct stat& st, const Node* prev, const FolderPtr& job) {
    if (Selection() && !Selection()->Select(abs, st)) return;
    // restic 0.14 leaves sockets out of snapshots; so do we, for equal trees.
    if (S_ISSOCK(st.st_mode)) return;
    auto node = NodeFor(path, name, st, prev);
    if (!node.ok()) {
      Warn(path, node.error().message());
      return;
    }
    if (node->type == NodeType::kDir) {
      std::optional<Id> prev_subtree = SubtreeOf(prev);
      const FolderCount count = FolderCount::Compare(prev, *node);
      size_t index = Append(job, std::move(*node));
      auto child = std::make_shared<FolderJob>([this, job, index, count](FolderJob& self, Result<Id> id) {
        if (!id.ok()) {
          SetError(id.error());
        } else if (self.unreadable) {
          std::lock_guard<std::mutex> lock(job->mu);
          job->drop[index] = true;
        } else {
          {
            std::lock_guard<std::mutex> lock(job->mu);
            job->tree.nodes[index].subtree = *id;
          }
          Count(count.Counter(*id));
        }
        ChildDone(job);
      });
      walkers_.Submit([this, path, abs, prev_subtree, child] { WalkFolder(path, abs, prev_subtree, child); });
      return;
    }
    if (node->type == NodeType::kFile) {
      if (Unchanged(*node, prev)) {
        node->content = prev->content;
        Count(&BackupSummary::files_unmodified);
        Processed(node->size);
      } else {
        auto counter = prev ? &BackupSummary::files_changed : &BackupSummary::files_new;
        size_t index = Append(job, std::move(*node));
        // Small files are read right here: handing each to a file worker
        // costs more in thread switches than reading it does.
        if (st.st_size < static_cast<off_t>(kInlineSize)) {
          CompleteFile(path, job, index, counter, ReadFile(path, st.st_size));
        } else {
          QueueFile(path, job, index, counter, st.st_size);
        }
        return;
      }
    }
    Append(job, std::move(*node), false);
  }

  void Processed(uint64_t size) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      result_.summary.total_files_processed++;
      result_.summary.total_bytes_processed += size;
    }
    if (progress_) {
      progress_->files_done++;
      progress_->bytes_done += size;
    }
  }

  // Runs on a walker: lists the folder and adds its entries to `job`.
  // A folder that cannot be listed is left out with a warning, as restic does.
  void WalkFolder(const std::string& path, const std::string& abs, const std::optional<Id>& parent_tree,
                  const FolderPtr& job) {
    if (!Failed()) {
      OpenDir dir(path);
      if (!dir.error().empty()) {
        Warn(path, dir.error());
        std::lock_guard<std::mutex> lock(job->mu);
        job->unreadable = true;
      }
      auto old = LoadParentTree(parent_tree);
      for (const auto& n : dir.names()) {
        std::string child = path == "/" ? "/" + n : path + "/" + n;
        std::string child_abs = abs == "/" ? "/" + n : abs + "/" + n;
        if (Selection() && !Selection()->SelectByName(child_abs)) continue;
        struct stat st;
        if (dir.Stat(n, &st) != 0) {
          Warn(child, GoPathError("lstat", child, errno));
          continue;
        }
        AddEntry(child, child_abs, n, st, Find(old, n), job);
      }
      if (old && parent_tree) {
        std::lock_guard<std::mutex> lock(job->mu);
        job->parent = std::move(old);
        job->parent_id = *parent_tree;
      }
    }
    ChildDone(job);
  }

  using Counter = uint64_t BackupSummary::*;

  // Reads a file on a file worker and completes its node in `job`; an
  // unreadable file is left out with a warning.
  void QueueFile(const std::string& path, const FolderPtr& job, size_t index, Counter counter, off_t size) {
    files_.Submit([this, path, job, index, counter, size] {
      CompleteFile(path, job, index, counter, ReadFile(path, size));
    });
  }

  // A file read counts as new or changed (`counter`); one that could not be read, as neither.
  void CompleteFile(const std::string& path, const FolderPtr& job, size_t index, Counter counter,
                    FileOutcome o) {
    if (!o.ok && !o.warning.empty()) Warn(path, o.warning);
    {
      std::lock_guard<std::mutex> lock(job->mu);
      if (o.ok) {
        job->tree.nodes[index].content = std::move(o.content);
        job->tree.nodes[index].size = o.size;
      } else {
        job->drop[index] = true;
      }
    }
    if (o.ok) {
      std::lock_guard<std::mutex> lock(mu_);
      result_.summary.*counter += 1;
      result_.summary.total_files_processed++;
      result_.summary.total_bytes_processed += o.size;
    }
    ChildDone(job);
  }

  // Runs on a file worker: read, chunk, hash; new chunks go to the blob queue.
  // `size` is what lstat said: a short read that brings the file to it is
  // the end (a regular file reads short only there), which saves a small
  // file its second read call. A file that grew since reads on to the end.
  FileOutcome ReadFile(const std::string& path, off_t size) {
    FileOutcome out;
    if (Failed()) return out;
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
    if (fd < 0 && errno == EPERM) fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      out.warning = GoPathError("open", path, errno);
      return out;
    }
    if (progress_) progress_->StartFile(path);
    Chunker chunker(tables_);
    Bytes buf = buffers_.Get();
    size_t scanned = 0;
    // Read into raw memory and append what came: growing `buf` by a whole
    // read size first would zero a megabyte per read, most of a small file's cost.
    thread_local std::unique_ptr<uint8_t[]> raw(new uint8_t[kReadSize]);
    while (true) {
      ssize_t n = ::read(fd, raw.get(), kReadSize);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        out.warning = GoPathError("read", path, errno);
        break;
      }
      buf.insert(buf.end(), raw.get(), raw.get() + n);
      out.size += static_cast<uint64_t>(n);
      if (progress_) progress_->bytes_done += static_cast<uint64_t>(n);
      while (scanned < buf.size()) {
        scanned += chunker.Find(ByteView(buf).subspan(scanned));
        if (!chunker.AtBoundary()) continue;
        Bytes rest = buffers_.Get();
        rest.assign(buf.begin() + static_cast<long>(scanned), buf.end());
        buf.resize(scanned);
        out.content.push_back(QueueBlob(std::move(buf)));
        buf = std::move(rest);
        scanned = 0;
      }
      const bool short_to_size = static_cast<size_t>(n) < kReadSize && out.size == static_cast<uint64_t>(size);
      if (n == 0 || short_to_size) {
        if (!buf.empty()) {
          out.content.push_back(QueueBlob(std::move(buf)));
        } else {
          buffers_.Put(std::move(buf));
        }
        out.ok = true;
        break;
      }
    }
    ::close(fd);
    if (!out.ok) buffers_.Put(std::move(buf));
    if (progress_) {
      progress_->EndFile(path);
      progress_->files_done++;
    }
    return out;
  }

  // Hashes a chunk; if the repository lacks it, queues it for storing.
  Id QueueBlob(Bytes chunk) {
    Id id = Sha256(chunk);
    if (repo_.HasBlob(BlobType::kData, id)) {
      buffers_.Put(std::move(chunk));
      return id;
    }
    // A small blob costs less to store here than to hand to another thread.
    if (chunk.size() < kInlineSize) {
      StoreBlob(id, chunk);
      buffers_.Put(std::move(chunk));
      return id;
    }
    blobs_.Submit([this, id, data = std::move(chunk)]() mutable {
      StoreBlob(id, data);
      buffers_.Put(std::move(data));
    });
    return id;
  }

  void StoreBlob(const Id& id, const Bytes& data) {
    if (Failed()) return;
    auto added = repo_.SaveBlob(BlobType::kData, id, data);
    if (!added.ok()) {
      SetError(added.error());
    } else if (*added) {
      std::lock_guard<std::mutex> lock(mu_);
      result_.summary.data_blobs++;
      result_.summary.data_added += data.size();
    }
  }

  Repository& repo_;
  const ChunkerTables& tables_;
  const BackupOptions& opt_;
  BackupProgress* progress_;
  BackupResult& result_;
  std::mutex mu_;  // guards result_.warnings, data counters and error_
  std::optional<Error> error_;
  BufferPool buffers_;
  // Declared last: destroyed first, so workers stop before the rest goes.
  ThreadPool blobs_;
  ThreadPool files_;
  ThreadPool walkers_;
};

// The newest snapshot of this host that covers all the target paths and is
// not newer than the backup itself, as restic 0.14 chooses the parent.
Result<std::optional<Id>> FindParent(Repository& repo, const std::string& host,
                                     const std::vector<std::string>& paths, const Timestamp& limit) {
  STASH_ASSIGN_OR_RETURN(auto all, repo.LoadAllSnapshots());
  SnapshotFilter filter;
  filter.hosts = {host};
  filter.paths = paths;
  std::optional<SnapshotEntry> best;
  for (auto& e : all) {
    if (!MatchesFilter(e.second, filter) || limit < e.second.time) continue;
    if (!best || best->second.time < e.second.time) best = std::move(e);
  }
  if (!best) return std::optional<Id>();
  return std::optional<Id>(best->first);
}

// The summary's record of the run: when it began and ended, and what its
// new blobs take in packs.
void RecordRun(Repository& repo, const Timestamp& started, uint64_t packed_before, SnapshotSummary& summary) {
  summary.backup_start = started;
  summary.backup_end = Timestamp::Now();
  summary.data_added_packed = repo.write_stats().data_added_packed - packed_before;
}

}  // namespace

void BackupProgress::StartFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  current_.insert(path);
}

void BackupProgress::EndFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = current_.find(path);
  if (it != current_.end()) current_.erase(it);
}

std::vector<std::string> BackupProgress::CurrentFiles() {
  std::lock_guard<std::mutex> lock(mu_);
  return {current_.begin(), current_.end()};
}

Result<BackupResult> Backup(Repository& repo, const ChunkerTables& chunker,
                            const BackupOptions& options, BackupProgress* progress) {
  auto start = std::chrono::steady_clock::now();
  if (options.targets.empty()) return Invalid("nothing to back up: no paths given");
  const Timestamp started = Timestamp::Now();
  const uint64_t packed_before = repo.write_stats().data_added_packed;
  Snapshot snapshot;
  snapshot.time = options.time ? *options.time : started;
  for (const auto& t : options.targets) snapshot.paths.push_back(AbsolutePath(t));
  STASH_ASSIGN_OR_RETURN(TargetTree targets, BuildTargetTree(options.targets));
  if (!options.force) {
    if (options.parent) {
      snapshot.parent = options.parent;
    } else {
      STASH_ASSIGN_OR_RETURN(snapshot.parent,
                             FindParent(repo, options.hostname, snapshot.paths, snapshot.time));
    }
  }
  std::optional<Id> parent_tree;
  if (snapshot.parent) {
    STASH_ASSIGN_OR_RETURN(Snapshot parent, repo.LoadSnapshot(*snapshot.parent));
    parent_tree = parent.tree;
  }

  BackupResult result;
  std::optional<BackupScan> scan;
  if (progress) scan.emplace(options.targets, options.selection.get(), *progress);
  {
    BackupRun run(repo, chunker, options, progress, result);
    auto tree = run.SaveTargets(targets, parent_tree, true);
    Status finished = run.Finish();
    if (!tree.ok()) return tree.error();
    STASH_RETURN_IF_ERROR(finished);
    snapshot.tree = *tree;
  }
  STASH_RETURN_IF_ERROR(repo.Flush());
  result.summary.parent = snapshot.parent;
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  if (options.skip_if_unchanged && parent_tree == snapshot.tree) {
    result.summary.skipped = true;
    RecordRun(repo, started, packed_before, result.summary);
    result.summary.total_duration = elapsed();
    return result;
  }

  STASH_ASSIGN_OR_RETURN(result.summary.snapshot_id,
                         SaveBackupSnapshot(repo, options, started, packed_before, snapshot, result.summary));
  result.summary.total_duration = elapsed();
  return result;
}

Result<Id> SaveBackupSnapshot(Repository& repo, const BackupOptions& options, const Timestamp& started,
                              uint64_t packed_before, Snapshot& snapshot, BackupSummary& summary) {
  snapshot.hostname = options.hostname;
  snapshot.username = UserName(::getuid());
  snapshot.uid = ::getuid();
  snapshot.gid = ::getgid();
  snapshot.tags = options.tags;
  snapshot.excludes = options.snapshot_excludes;
  RecordRun(repo, started, packed_before, summary);
  snapshot.extra_json = EncodeVersionAndSummary(kProgramVersion, summary);
  return repo.SaveSnapshot(snapshot);
}

}  // namespace stash
