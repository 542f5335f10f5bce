// Restore internals: creating and filling regular files on a thread pool.
//
// The restorer walks the trees on one thread, creating folders, symlinks
// and special files in order. Regular files are handed here with the
// folder they belong in. ContentWriter gathers them into a window: many
// small files, or a slice of one large file, up to window_files files or
// window_bytes of content. A full window is split by pack into jobs for a
// bounded pool of threads: each job has every blob of the window that
// lies in its packs (whole packs, until it reads about job_bytes), so no
// two jobs of a window read the same pack and a pack is fetched once per
// window however many files share it (a backup running on several threads
// interleaves files in its packs). A job creates its files
// (O_EXCL|O_NOFOLLOW relative to the folder's descriptor, so no path is
// ever followed), reads each run of nearby blobs of one pack with one
// backend read, then decrypts, checks and writes every blob to the files
// that need it with pwrite. The last job to finish with a file sets its
// metadata (owner, mode, xattrs, times) and closes it.
//
// A folder's metadata is set once every entry in it exists: the walker
// holds one reference to the folder while it walks it and each file not
// yet created holds one; whoever drops the last sets owner, mode and times
// and closes the descriptor. Writing through a file's own descriptor does
// not change its folder, so the folder need not wait for file contents.
//
// Memory and descriptors stay bounded: a window holds references to at
// most window_files files and a bounded number of blobs (not their
// content), a job opens at most its window's files, the queue holds as
// many jobs as there are threads, and one read is at most max_read bytes
// (or one blob).
//
// A job's reads overlap its decoding: while it decrypts and writes one run,
// the next run of the job is already being read on a download thread, so a
// remote backend's latency is not paid run after run. Each job has at most
// one read ahead, so at most 2 x threads reads are in flight (and as many
// read buffers held).
#pragma once

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/buffer_pool.h"
#include "engine/restorer.h"
#include "base/thread_pool.h"
#include "storage/repository.h"

namespace stash::restore_internal {

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Close(); }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Close();
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// Removes whatever non-folder entry stands at `name` in `dir`, so we never
// write through an existing symlink.
void ClearEntry(int dir, const std::string& name);

// Runs `create`, which must fail with EEXIST if the name is taken and never
// follow a symlink (O_CREAT|O_EXCL, mkdirat, symlinkat, linkat, mknodat),
// and once more after clearing what was there. Saves a stat per entry when
// the target is empty, as it usually is. Returns what `create` returned.
template <class F>
int CreateFresh(int dir, const std::string& name, F create) {
  int r = create();
  if (r < 0 && errno == EEXIST) {
    ClearEntry(dir, name);
    r = create();
  }
  return r;
}

// What a restore reports, shared by the walker and the content threads.
// Every warning and error carries the sequence number of the node (or
// event) it belongs to in walk order, so the report reads as a
// single-threaded restore would have written it.
class RestoreLog {
 public:
  void Warn(uint64_t seq, std::string path, std::string message);
  // A fatal error; the earliest one in walk order is kept.
  void Fail(uint64_t seq, Error error);
  bool failed() const { return failed_.load(std::memory_order_relaxed); }

  void CountFile(uint64_t bytes);
  void CountDir();
  void CountOther();

  // The earliest fatal error, if any.
  std::optional<Error> TakeError();
  // Summary and warnings in walk order.
  RestoreResult TakeResult();

 private:
  std::mutex mu_;
  std::atomic<bool> failed_{false};
  std::optional<std::pair<uint64_t, Error>> error_;
  std::vector<std::pair<uint64_t, RestoreWarning>> warnings_;
  std::atomic<uint64_t> files_{0}, dirs_{0}, other_{0}, bytes_{0};
};

// Owner before mode (chown clears set-uid bits), times last.
void ApplyMetadata(int fd, const Node& node, bool restore_owner, RestoreLog& log,
                   uint64_t seq, const std::string& out);

// A restored folder, open while the walker is in it or files in it wait to
// be created.
struct Folder {
  Fd fd;
  Node node;              // metadata to set (if `selected`)
  std::string out;        // path on disk, for messages
  bool selected = false;  // set its metadata (--include may leave it out)
  uint64_t seq = 0;       // for its warnings: set when the walker lets go
  std::atomic<uint32_t> refs{1};
  // The group a file created in it gets (its own if it is set-group-id),
  // if known: files already owned as they should be need no chown.
  std::optional<uint32_t> new_file_gid;
  // Held while creating entries in it. The kernel serializes creations in
  // one folder anyway, but a thread waiting for the folder's lock there
  // spins, which costs a whole CPU when creating is slow (an ext4 without
  // journal skips recently deleted inodes one by one); here it sleeps.
  std::mutex create_mu;
};

// Opens the folder `name` in `dir` as a Folder, learning what group files
// created in it get when `restore_owner` is set. A symlink is never
// followed, unless `follow` (for the target folder the user named).
// Returns nullptr with errno set on failure.
std::shared_ptr<Folder> OpenFolder(int dir, const char* name, bool restore_owner,
                                   bool follow = false);

// Drops one reference; the last sets the folder's metadata and closes it.
void ReleaseFolder(Folder& folder, bool restore_owner, RestoreLog& log);

// Tuning. Restore sets `threads` from RestoreOptions and leaves the rest.
// Windows and jobs are large and reads may span gaps because every request
// costs a remote backend a round trip and the server CPU time: blobs of one
// pack that a job needs are read together even with other files' blobs
// between them (restic reads a pack's needed span whole, gaps and all).
// A 256 MiB restore from S3 (a repository of 210 MB in 15 packs) takes 43
// requests and 210 MB this way; with jobs cut from the files alone (32 MiB,
// 256 files) it took 72 requests and 255 MB, as jobs read the same packs'
// spans again.
struct ContentLimits {
  size_t threads = 0;               // 0: from the number of CPUs (2 to 4)
  size_t window_files = 0;          // most files per window (each may hold
                                    // an fd); 0: up to 1024, within the
                                    // open file limit
  uint64_t window_bytes = 256 << 20;  // content per window before it is split
  uint64_t job_bytes = 12 << 20;    // bytes a job reads, in whole packs
  uint64_t max_read = 8 << 20;      // most bytes of one backend read
  uint64_t max_gap = 4 << 20;       // unneeded bytes a read may span
};

class ContentWriter {
 public:
  ContentWriter(Repository& repo, bool restore_owner, RestoreLog& log,
                ContentLimits limits = {});
  // Waits for every job.
  ~ContentWriter();
  ContentWriter(const ContentWriter&) = delete;
  ContentWriter& operator=(const ContentWriter&) = delete;

  // Creates the file `node.name` in `folder` and fills it with the blobs
  // of `node.content`. If `fd` is open the file was created already (the
  // first of a set of hard links): it is only filled. `node.name` must be a
  // safe name. A blob that is missing from the index, cannot be read or
  // fails its checks is a warning naming the file and the blob; the file
  // gets every other blob in its place and its full size (zeros where the
  // blob belongs), but not its metadata. Everything else is restored.
  Status Add(const std::shared_ptr<Folder>& folder, Node node, std::string out, uint64_t seq,
             Fd fd = Fd());

  // Sends what is pending and waits until every file is done.
  void Finish();

 private:
  struct File;
  struct BlobRef;
  struct Job;

  struct Download;

  // Splits the pending window into jobs and queues them; `last` when
  // nothing follows.
  void Send(bool last = false);
  // The window's blobs in read order, cut into jobs of whole packs (or,
  // for the last window, of max_read / 2); files without blobs go to the
  // first job, which creates them.
  std::vector<std::unique_ptr<Job>> SplitByPack(Job& window, bool last);
  void Run(Job& job);
  void Create(File& file);
  void Release(File& file);
  // Starts reading blobs[begin, end) (one pack, one range) on a download
  // thread.
  std::shared_ptr<Download> StartRead(const Job& job, size_t begin, size_t end);
  // Writes out blobs[begin, end) from `raw`, their read, or reads them
  // again blob by blob when `read` (that read's outcome) failed for several,
  // to find the broken one.
  // Decrypts in place: `raw` is not needed after.
  void WriteRun(Job& job, size_t begin, size_t end, const Status& read, std::span<uint8_t> raw);
  Status Decode(std::span<uint8_t> sealed, const BlobRef& b, ByteView& plain);
  void BlobFailed(Job& job, const BlobRef& b, const Error& error);
  // Names the file's first unreadable blob, once.
  void Damaged(File& file, const std::string& message);

  Repository& repo_;
  bool restore_owner_;
  RestoreLog& log_;
  ContentLimits limits_;
  uint32_t euid_;
  std::unique_ptr<Job> pending_;  // the window being filled
  // Read buffers, reused from run to run so that reads fill pages already
  // touched rather than fresh ones (a fifth of a local restore's CPU).
  std::unique_ptr<BufferPool> buffers_;
  // Reads ahead for the jobs (declared before queue_: jobs wait on it, so it
  // must outlive them).
  std::unique_ptr<ThreadPool> downloads_;
  std::unique_ptr<ThreadPool> queue_;
};

}  // namespace stash::restore_internal
