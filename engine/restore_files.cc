#include "engine/restore_files.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <thread>

#include <zstd.h>
#include <zstd_errors.h>

#include "crypto/crypto_key.h"

namespace stash::restore_internal {
namespace {

std::string ErrnoText(const char* what, int err) { return std::string(what) + ": " + std::strerror(err); }

struct timespec ToTimespec(const Timestamp& t) {
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(t.seconds);
  ts.tv_nsec = static_cast<long>(t.nanos);
  return ts;
}

// Writes all of `data` at `offset`; false with errno set on failure.
bool PwriteAll(int fd, ByteView data, uint64_t offset) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done,
                         static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) {
      errno = EIO;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

// Most blobs in one window, whatever their sizes (a file of many empty
// blobs): about 3 MiB of references.
constexpr size_t kWindowBlobs = 32768;
// Most files in one window, when the open file limit allows.
constexpr uint64_t kMaxWindowFiles = 1024;

struct DCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// Decompresses a format 2 blob (one or more zstd frames) into `out`, which
// is reused from blob to blob so that no memory is touched twice. The size
// must be exactly what the index promised. Errors read as ZstdDecompress's.
Status DecompressInto(ByteView data, size_t expected, Bytes& out) {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx(ZSTD_createDCtx());
  if (!ctx) return IOError("zstd: out of memory");
  if (out.size() < expected) out.resize(expected);
  size_t n = ZSTD_decompressDCtx(ctx.get(), out.data(), expected, data.data(), data.size());
  if (ZSTD_isError(n)) {
    if (ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall) {
      return Corrupt("zstd: decompressed data larger than expected");
    }
    return Corrupt(std::string("zstd: ") + ZSTD_getErrorName(n));
  }
  if (n != expected) {
    return Corrupt("zstd: decompressed " + std::to_string(n) + " bytes, expected " +
                   std::to_string(expected));
  }
  return Status::Ok();
}

// Decompressed blobs, reused from blob to blob on each thread.
Bytes& Unpacked() {
  thread_local Bytes unpacked;
  return unpacked;
}

}  // namespace

void ClearEntry(int dir, const std::string& name) {
  struct stat st;
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
    ::unlinkat(dir, name.c_str(), 0);
  }
}

// ---------------------------------------------------------------- RestoreLog

void RestoreLog::Warn(uint64_t seq, std::string path, std::string message) {
  std::lock_guard<std::mutex> lock(mu_);
  warnings_.push_back({seq, {std::move(path), std::move(message)}});
}

void RestoreLog::Fail(uint64_t seq, Error error) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!error_ || seq < error_->first) error_.emplace(seq, std::move(error));
  failed_.store(true, std::memory_order_relaxed);
}

void RestoreLog::CountFile(uint64_t bytes) {
  files_.fetch_add(1, std::memory_order_relaxed);
  bytes_.fetch_add(bytes, std::memory_order_relaxed);
}

void RestoreLog::CountDir() { dirs_.fetch_add(1, std::memory_order_relaxed); }

void RestoreLog::CountOther() { other_.fetch_add(1, std::memory_order_relaxed); }

std::optional<Error> RestoreLog::TakeError() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!error_) return std::nullopt;
  return std::move(error_->second);
}

RestoreResult RestoreLog::TakeResult() {
  std::lock_guard<std::mutex> lock(mu_);
  std::stable_sort(warnings_.begin(), warnings_.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  RestoreResult result;
  result.summary.files = files_.load();
  result.summary.dirs = dirs_.load();
  result.summary.other = other_.load();
  result.summary.bytes = bytes_.load();
  result.warnings.reserve(warnings_.size());
  for (auto& w : warnings_) result.warnings.push_back(std::move(w.second));
  warnings_.clear();
  return result;
}

void ApplyMetadata(int fd, const Node& node, bool restore_owner, RestoreLog& log,
                   uint64_t seq, const std::string& out) {
  if (restore_owner && ::fchown(fd, node.uid, node.gid) != 0) log.Warn(seq, out, ErrnoText("chown", errno));
  if (::fchmod(fd, UnixPermissionsFromGoMode(node.mode)) != 0) log.Warn(seq, out, ErrnoText("chmod", errno));
  for (const auto& x : node.extended_attributes) {
    ::fsetxattr(fd, x.name.c_str(), x.value.data(), x.value.size(), 0);
  }
  struct timespec times[2] = {ToTimespec(node.atime), ToTimespec(node.mtime)};
  if (::futimens(fd, times) != 0) log.Warn(seq, out, ErrnoText("set times", errno));
}

std::shared_ptr<Folder> OpenFolder(int dir, const char* name, bool restore_owner, bool follow) {
  Fd fd(::openat(dir, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW)));
  if (!fd.ok()) return nullptr;
  auto folder = std::make_shared<Folder>();
  struct stat st;
  if (restore_owner && ::fstat(fd.get(), &st) == 0) {
    folder->new_file_gid = (st.st_mode & S_ISGID) ? st.st_gid : ::getegid();
  }
  folder->fd = std::move(fd);
  return folder;
}

void ReleaseFolder(Folder& folder, bool restore_owner, RestoreLog& log) {
  if (folder.refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  if (folder.selected && !log.failed()) {
    ApplyMetadata(folder.fd.get(), folder.node, restore_owner, log, folder.seq, folder.out);
    log.CountDir();
  }
  folder.fd.Close();
}

// ------------------------------------------------------------- ContentWriter

// A file being filled. The walker holds one reference until it has handed
// out all its blobs, and every job with some of its blobs holds one; the
// last to let go sets the metadata and closes it.
struct ContentWriter::File {
  std::shared_ptr<Folder> folder;  // one of its refs is ours until the file is created
  std::mutex create_mu;  // jobs with parts of one file may start together
  bool created = false;  // guarded by create_mu
  bool owner_ok = false;  // created with the owner it should have
  // Held while writing: jobs with slices of one large file write it at the
  // same time, and a thread waiting for the file's lock in the kernel spins.
  std::mutex write_mu;
  Fd fd;
  Node node;  // name and metadata; content already moved out into blob references
  std::string out;
  uint64_t seq = 0;
  uint64_t size = 0;  // set by the walker before it lets go
  std::atomic<uint32_t> refs{1};
  std::atomic<bool> failed{false};   // a write failed (warned once)
  std::atomic<bool> damaged{false};  // some blob could not be read (warned once)
};

// One blob to write into one file at one offset.
struct ContentWriter::BlobRef {
  Id pack;
  Id id;
  uint32_t offset;               // in the pack
  uint32_t length;               // encrypted length
  uint32_t uncompressed_length;  // 0 if not compressed
  uint32_t file;                 // index in Job::files
  uint64_t file_offset;
};

struct ContentWriter::Job {
  std::vector<std::shared_ptr<File>> files;
  std::vector<BlobRef> blobs;
  uint64_t bytes = 0;
};

ContentWriter::ContentWriter(Repository& repo, bool restore_owner, RestoreLog& log,
                             ContentLimits limits)
    : repo_(repo), restore_owner_(restore_owner), log_(log), limits_(limits), euid_(::geteuid()) {
  if (limits_.threads == 0) {
    limits_.threads = std::clamp<size_t>(std::thread::hardware_concurrency(), 2, 4);
  }
  if (limits_.window_files == 0) {
    // Each queued or running job may come from a window of its own, and
    // holds up to window_files open files and as many folders at worst; use
    // at most half the descriptors we may open, raising the soft limit (1024
    // by default) toward the hard one if that is what it takes, as Go
    // programs do.
    uint64_t jobs = 2 * limits_.threads + 1;
    uint64_t wanted = kMaxWindowFiles * jobs * 4;
    uint64_t fds = 1024;
    struct rlimit rl;
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
      if (rl.rlim_cur < wanted && rl.rlim_cur < rl.rlim_max) {
        struct rlimit raised = rl;
        raised.rlim_cur = rl.rlim_max == RLIM_INFINITY ? wanted : std::min<rlim_t>(rl.rlim_max, wanted);
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
      }
      fds = rl.rlim_cur;
    }
    limits_.window_files = static_cast<size_t>(std::clamp<uint64_t>(fds / 4 / jobs, 1, kMaxWindowFiles));
  }
  // A job has at most two reads out (the run it waits for, the next one),
  // so a thread for each: a read never queues behind another.
  // Two read buffers per job too, each with room for a largest read from
  // the start (growing by doubling would copy and fault in fresh pages); one
  // that grew for a huge blob keeps only the pages a largest read needs
  // while it waits. A read resizes its buffer over what it reads, so the
  // pool keeps their sizes: no zeroing before every read.
  buffers_ = std::make_unique<BufferPool>(BufferPool::Options{
      .max_idle = 2 * limits_.threads,
      .reserve = limits_.max_read,
      .keep_touched = std::max<uint64_t>(limits_.max_read, 16 << 20),
      .written_past = 0,
      .keep_size = true});
  downloads_ = std::make_unique<ThreadPool>(2 * limits_.threads);
  queue_ = std::make_unique<ThreadPool>(limits_.threads, limits_.threads);
}

ContentWriter::~ContentWriter() { Finish(); }

Status ContentWriter::Add(const std::shared_ptr<Folder>& folder, Node node, std::string out,
                          uint64_t seq, Fd fd) {
  auto file = std::make_shared<File>();
  file->fd = std::move(fd);
  file->seq = seq;
  file->out = std::move(out);
  std::vector<Id> content = std::move(node.content).value_or(std::vector<Id>{});
  node.content.reset();
  file->node = std::move(node);
  file->folder = folder;
  folder->refs.fetch_add(1, std::memory_order_relaxed);

  // Every file goes into at least one job, which creates it.
  auto join_pending = [&] {
    if (!pending_) pending_ = std::make_unique<Job>();
    pending_->files.push_back(file);
    file->refs.fetch_add(1, std::memory_order_relaxed);
  };
  join_pending();
  bool in_pending = true;
  uint64_t offset = 0;
  const Index& index = repo_.index();
  for (const Id& id : content) {
    auto loc = index.Lookup(BlobType::kData, id);
    if (!loc) {
      // Where the blobs after it belong is unknown: the file keeps those before.
      Damaged(*file, "data blob " + id.Hex() + " not found in index");
      break;
    }
    if (!in_pending) {
      join_pending();
      in_pending = true;
    }
    pending_->blobs.push_back({loc->pack, id, loc->blob.offset, loc->blob.length,
                               loc->blob.uncompressed_length,
                               static_cast<uint32_t>(pending_->files.size() - 1), offset});
    uint64_t plain = loc->blob.PlainLength();
    offset += plain;
    pending_->bytes += plain;
    if (pending_->bytes >= limits_.window_bytes || pending_->blobs.size() >= kWindowBlobs) {
      Send();
      in_pending = false;
    }
  }
  file->size = offset;
  if (pending_ && pending_->files.size() >= limits_.window_files) Send();
  Release(*file);
  return Status::Ok();
}

void ContentWriter::Damaged(File& file, const std::string& message) {
  if (!file.damaged.exchange(true)) log_.Warn(file.seq, file.out, message);
}

void ContentWriter::Send(bool last) {
  if (!pending_ || pending_->files.empty()) return;
  std::unique_ptr<Job> window = std::move(pending_);
  for (auto& job : SplitByPack(*window, last)) {
    std::shared_ptr<Job> shared(std::move(job));
    queue_->Submit([this, shared] { Run(*shared); });
  }
  // The jobs hold the files now.
  for (auto& file : window->files) Release(*file);
}

std::vector<std::unique_ptr<ContentWriter::Job>> ContentWriter::SplitByPack(Job& window, bool last) {
  auto& blobs = window.blobs;
  std::sort(blobs.begin(), blobs.end(), [](const BlobRef& a, const BlobRef& b) {
    if (a.pack != b.pack) return a.pack < b.pack;
    if (a.offset != b.offset) return a.offset < b.offset;
    if (a.file != b.file) return a.file < b.file;
    return a.file_offset < b.file_offset;
  });
  // Whole packs per job, until a job has job_bytes to read. The last
  // window is cut finer, within packs too, so that the threads run out of
  // work together rather than one finishing a large job alone.
  std::vector<std::pair<size_t, size_t>> spans;
  const uint64_t job_bytes = last ? limits_.max_read / 2 : limits_.job_bytes;
  for (size_t begin = 0, end = 0; begin < blobs.size(); begin = end) {
    uint64_t bytes = 0;
    while (end < blobs.size() && bytes < job_bytes) {
      const Id& pack = blobs[end].pack;
      do {
        bytes += blobs[end++].length;
      } while (!last && end < blobs.size() && blobs[end].pack == pack);
    }
    spans.emplace_back(begin, end);
  }
  if (spans.empty()) spans.emplace_back(0, 0);  // only files without content
  // Files without blobs (empty, or their first blob is missing) are
  // created by the first job.
  std::vector<bool> unused(window.files.size(), true);
  for (const auto& b : blobs) unused[b.file] = false;
  std::vector<std::unique_ptr<Job>> jobs;
  std::vector<uint32_t> local(window.files.size());
  for (const auto& [begin, end] : spans) {
    std::vector<bool> used = jobs.empty() ? unused : std::vector<bool>(window.files.size(), false);
    for (size_t i = begin; i < end; ++i) used[blobs[i].file] = true;
    auto job = std::make_unique<Job>();
    // In walk order, so Run creates the files of one folder together.
    for (size_t f = 0; f < window.files.size(); ++f) {
      if (!used[f]) continue;
      local[f] = static_cast<uint32_t>(job->files.size());
      job->files.push_back(window.files[f]);
      window.files[f]->refs.fetch_add(1, std::memory_order_relaxed);
    }
    job->blobs.assign(blobs.begin() + static_cast<ptrdiff_t>(begin), blobs.begin() + static_cast<ptrdiff_t>(end));
    for (auto& b : job->blobs) b.file = local[b.file];
    jobs.push_back(std::move(job));
  }
  return jobs;
}

void ContentWriter::Finish() {
  Send(/*last=*/true);
  queue_->Wait();
}

// Creates the file (once, whichever of its jobs comes first) and lets go of
// its folder. The caller holds the folder's create_mu.
void ContentWriter::Create(File& file) {
  // Not std::call_once: glibc's wakes futex waiters on every first call.
  std::lock_guard<std::mutex> lock(file.create_mu);
  if (file.created) return;
  file.created = true;
  {
    const Folder& folder = *file.folder;
    file.owner_ok = folder.new_file_gid && file.node.uid == euid_ &&
                    file.node.gid == *folder.new_file_gid;
    if (!file.fd.ok() && !log_.failed()) {
      int dir = file.folder->fd.get();
      const char* name = file.node.name.c_str();
      file.fd = Fd(CreateFresh(dir, file.node.name, [&] {
        return ::openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      }));
      if (!file.fd.ok()) {
        int err = errno;
        file.failed.store(true, std::memory_order_relaxed);
        log_.Warn(file.seq, file.out, ErrnoText("create", err));
      }
    }
    ReleaseFolder(*file.folder, restore_owner_, log_);
  }
}

void ContentWriter::Release(File& file) {
  if (file.refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  if (file.fd.ok() && file.damaged.load(std::memory_order_relaxed)) {
    // Every readable blob is in its place and the file has its full size;
    // it keeps mode 0600 and the current time, so it does not pass for the
    // original.
    if (::ftruncate(file.fd.get(), static_cast<off_t>(file.node.size)) != 0) {
      log_.Warn(file.seq, file.out, ErrnoText("truncate", errno));
    }
  } else if (file.fd.ok() && !file.failed.load(std::memory_order_relaxed) && !log_.failed()) {
    ApplyMetadata(file.fd.get(), file.node, restore_owner_ && !file.owner_ok, log_, file.seq, file.out);
    log_.CountFile(file.size);
  }
  file.fd.Close();
}

// One read on a download thread into a buffer from the writer's pool, taken
// by the job that started it (which puts the buffer back).
struct ContentWriter::Download {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Status status;
  Bytes buf;

  void Wait() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
  }
};

void ContentWriter::Run(Job& job) {
  // Files come in walk order, so those of one folder are next to each other.
  for (size_t i = 0; i < job.files.size();) {
    Folder& folder = *job.files[i]->folder;
    std::lock_guard<std::mutex> lock(folder.create_mu);
    for (; i < job.files.size() && job.files[i]->folder.get() == &folder; ++i) Create(*job.files[i]);
  }
  // The blobs are in read order (SplitByPack). Runs: blobs of one pack,
  // close together, read with one request each.
  const auto& blobs = job.blobs;
  std::vector<size_t> bounds{0};
  for (size_t begin = 0; begin < blobs.size();) {
    uint64_t start = blobs[begin].offset;
    uint64_t end = start + blobs[begin].length;
    size_t stop = begin + 1;
    while (stop < blobs.size() && blobs[stop].pack == blobs[begin].pack) {
      uint64_t off = blobs[stop].offset;
      uint64_t new_end = std::max<uint64_t>(end, off + blobs[stop].length);
      if (off > end + limits_.max_gap || new_end - start > limits_.max_read) break;
      end = new_end;
      ++stop;
    }
    bounds.push_back(stop);
    begin = stop;
  }
  std::shared_ptr<Download> next;
  if (bounds.size() > 1) next = StartRead(job, bounds[0], bounds[1]);
  for (size_t r = 0; r + 1 < bounds.size() && !log_.failed(); ++r) {
    std::shared_ptr<Download> current = std::move(next);
    if (r + 2 < bounds.size()) next = StartRead(job, bounds[r + 1], bounds[r + 2]);
    current->Wait();
    WriteRun(job, bounds[r], bounds[r + 1], current->status, current->buf);
    buffers_->Put(std::move(current->buf));
  }
  if (next) {  // the job stopped early: its read must not outlive it
    next->Wait();
    buffers_->Put(std::move(next->buf));
  }
  for (auto& file : job.files) Release(*file);
}

std::shared_ptr<ContentWriter::Download> ContentWriter::StartRead(const Job& job, size_t begin,
                                                                  size_t end) {
  const BlobRef& first = job.blobs[begin];
  uint64_t start = first.offset, stop = start;
  for (size_t i = begin; i < end; ++i) {
    stop = std::max<uint64_t>(stop, uint64_t{job.blobs[i].offset} + job.blobs[i].length);
  }
  auto download = std::make_shared<Download>();
  download->buf = buffers_->Get();
  downloads_->Submit([this, download, pack = first.pack.Hex(), start, length = stop - start] {
    // `buf` is the download's alone until `done` is set (under the lock).
    Status read = repo_.backend().ReadInto(FileType::kPack, pack, start, length, download->buf);
    std::lock_guard<std::mutex> lock(download->mu);
    download->status = std::move(read);
    download->done = true;
    download->cv.notify_all();
  });
  return download;
}

// Decrypts (in place), decompresses and checks one blob; `plain` is its
// content, in `sealed` or in this thread's Unpacked buffer until its next
// blob.
Status ContentWriter::Decode(std::span<uint8_t> sealed, const BlobRef& b, ByteView& plain) {
  STASH_ASSIGN_OR_RETURN(plain, OpenInPlace(repo_.master_key(), sealed));
  if (b.uncompressed_length != 0) {
    STASH_RETURN_IF_ERROR(DecompressInto(plain, b.uncompressed_length, Unpacked()));
    plain = ByteView(Unpacked().data(), b.uncompressed_length);
  }
  if (Sha256(plain) != b.id) return Corrupt("content does not match its id");
  return Status::Ok();
}

// A blob that cannot be read damages the files that need it; the rest of
// the restore goes on.
void ContentWriter::BlobFailed(Job& job, const BlobRef& b, const Error& error) {
  Damaged(*job.files[b.file], error.message() + " (data blob " + b.id.Hex() + " in pack " + b.pack.Hex() + ")");
}

void ContentWriter::WriteRun(Job& job, size_t begin, size_t end, const Status& read,
                             std::span<uint8_t> raw) {
  const BlobRef& first = job.blobs[begin];
  uint64_t start = first.offset;
  if (!read.ok() && end - begin > 1) {
    // Read blob by blob to find the one that is broken (a truncated pack
    // may still hold the first blobs of the range).
    Bytes one;
    for (size_t i = begin; i < end; ++i) {
      const BlobRef& b = job.blobs[i];
      Status got = repo_.backend().ReadInto(FileType::kPack, b.pack.Hex(), b.offset, b.length, one);
      WriteRun(job, i, i + 1, got, one);
    }
    return;
  }
  if (!read.ok()) {
    BlobFailed(job, first, read.error());
    return;
  }
  ByteView plain;                 // the last blob's plaintext (in this thread's buffers)
  Status decoded = Status::Ok();  // whether the last blob could be read
  const BlobRef* prev = nullptr;
  for (size_t i = begin; i < end; ++i) {
    const BlobRef& b = job.blobs[i];
    File& f = *job.files[b.file];
    // The same blob twice in a row (a file of repeated chunks, or equal
    // files) is decoded once; it must be, as decoding decrypts in place.
    // Sorted by offset, every use of a blob in this run is in one row.
    if (!prev || prev->offset != b.offset || prev->length != b.length || prev->id != b.id) {
      decoded = Decode(raw.subspan(b.offset - start, b.length), b, plain);
    }
    prev = &b;
    if (!decoded.ok()) {
      BlobFailed(job, b, decoded.error());
      continue;
    }
    if (f.failed.load(std::memory_order_relaxed)) continue;
    std::unique_lock<std::mutex> write_lock(f.write_mu);
    if (!PwriteAll(f.fd.get(), plain, b.file_offset)) {
      int err = errno;
      write_lock.unlock();
      if (!f.failed.exchange(true)) log_.Warn(f.seq, f.out, ErrnoText("write", err));
    }
  }
  // Do not keep a large buffer for good after a large blob.
  if (Unpacked().size() > (16u << 20)) Bytes().swap(Unpacked());
}

}  // namespace stash::restore_internal
