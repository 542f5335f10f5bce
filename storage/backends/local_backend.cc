#include "storage/backends/local_backend.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>

#include "crypto/id.h"
#include "crypto/random.h"
#include "crypto/encoding.h"

namespace stash {
namespace {

Error ErrnoError(const std::string& what, const std::string& path, int err) {
  std::string msg = what + " " + path + ": " + std::strerror(err);
  if (err == ENOENT) return NotFound(msg);
  return IOError(msg);
}

// Closes a file descriptor when it goes out of scope.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { if (fd_ >= 0) ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
 private:
  int fd_;
};

Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoError("mkdir", path, errno);
  }
  return Status::Ok();
}

Status WriteAll(int fd, ByteView data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write", path, errno);
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Copies the first `size` bytes of `in` to `out`'s end: sendfile, which
// moves them inside the kernel, else through a small buffer.
Status CopyFile(int in, uint64_t size, int out, const std::string& path) {
  off_t at = 0;
  while (static_cast<uint64_t>(at) < size) {
    ssize_t n = ::sendfile(out, in, &at, static_cast<size_t>(size - static_cast<uint64_t>(at)));
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return Corrupt(path + ": the file to copy is shorter than promised");
    if (errno != EINVAL && errno != ENOSYS) return ErrnoError("write", path, errno);
    break;  // not supported between these files
  }
  Bytes buf(std::min<uint64_t>(size - static_cast<uint64_t>(at), 256 << 10));
  while (static_cast<uint64_t>(at) < size) {
    ssize_t n = ::pread(in, buf.data(), std::min<uint64_t>(buf.size(), size - static_cast<uint64_t>(at)), at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read", path, errno);
    if (n == 0) return Corrupt(path + ": the file to copy is shorter than promised");
    STASH_RETURN_IF_ERROR(WriteAll(out, ByteView(buf.data(), static_cast<size_t>(n)), path));
    at += n;
  }
  return Status::Ok();
}

// Makes a rename durable: fsync the folder that holds the new name.
void SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);  // best effort: some file systems refuse fsync on folders
  ::close(fd);
}

std::string DirName(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// Gives `tmp` the name `path` unless `path` exists (kConflict). File
// systems without hard links get a rename, which cannot refuse to replace.
Status LinkInPlace(const std::string& tmp, const std::string& path) {
  if (::link(tmp.c_str(), path.c_str()) == 0) return Status::Ok();
  int err = errno;
  if (err == EEXIST) return Conflict(path + ": file already exists");
  if (err != EPERM && err != EOPNOTSUPP && err != ENOSYS) return ErrnoError("link", path, err);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoError("rename", path, errno);
  return Status::Ok();
}

}  // namespace

LocalBackend::LocalBackend(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string LocalBackend::PathOf(FileType type, const std::string& name) const {
  return root_ + "/" + ObjectPath(type, name);
}

Status LocalBackend::Create() {
  struct stat st;
  if (::stat(PathOf(FileType::kConfig, "").c_str(), &st) == 0) {
    return Conflict("repository " + root_ + " already exists (config file found)");
  }
  // Create missing parents of the root too, as restic does.
  for (size_t pos = 1; pos < root_.size(); ++pos) {
    if (root_[pos] == '/') STASH_RETURN_IF_ERROR(MakeDir(root_.substr(0, pos)));
  }
  STASH_RETURN_IF_ERROR(MakeDir(root_));
  for (FileType t : {FileType::kKey, FileType::kSnapshot, FileType::kIndex,
                     FileType::kLock, FileType::kPack}) {
    STASH_RETURN_IF_ERROR(MakeDir(root_ + "/" + FileTypeDir(t)));
  }
  static const char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 256; ++i) {
    std::string sub = {kHex[i >> 4], kHex[i & 15]};
    STASH_RETURN_IF_ERROR(MakeDir(root_ + "/data/" + sub));
  }
  return Status::Ok();
}

// Appends the restic file names in `dir` with sizes; in a data/xx folder
// (`sub` = "xx") only packs whose name starts with xx, so that every listed
// name reads back by that name.
Status LocalBackend::ListDir(const std::string& dir, const std::string& sub,
                             std::vector<FileInfo>& out) const {
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return Status::Ok();  // an empty type folder may be missing
    return ErrnoError("list", dir, errno);
  }
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (!IsRepositoryFileName(name) || !name.starts_with(sub)) continue;
    struct stat st;
    if (::stat((dir + "/" + name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    out.push_back({name, static_cast<uint64_t>(st.st_size)});
  }
  ::closedir(d);
  return Status::Ok();
}

Result<std::vector<FileInfo>> LocalBackend::List(FileType type) {
  std::vector<FileInfo> out;
  if (type == FileType::kConfig) {
    auto info = Stat(type, "config");
    if (info.ok()) out.push_back(*info);
    return out;
  }
  std::string dir = root_ + "/" + FileTypeDir(type);
  if (type != FileType::kPack) {
    STASH_RETURN_IF_ERROR(ListDir(dir, "", out));
    return out;
  }
  DIR* d = ::opendir(dir.c_str());
  if (!d) return ErrnoError("list", dir, errno);
  std::vector<std::string> subdirs;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.size() == 2 && std::isxdigit(static_cast<unsigned char>(name[0])) &&
        std::isxdigit(static_cast<unsigned char>(name[1]))) {
      subdirs.push_back(name);
    }
  }
  ::closedir(d);
  for (const auto& sub : subdirs) STASH_RETURN_IF_ERROR(ListDir(dir + "/" + sub, sub, out));
  return out;
}

Result<FileInfo> LocalBackend::Stat(FileType type, const std::string& name) {
  std::string path = PathOf(type, name);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoError("stat", path, errno);
  return FileInfo{name, static_cast<uint64_t>(st.st_size)};
}

Status LocalBackend::ReadInto(FileType type, const std::string& name, uint64_t offset,
                              uint64_t length, Bytes& out) {
  std::string path = PathOf(type, name);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open", path, errno);
  FdCloser closer(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoError("stat", path, errno);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (offset > size || (length != 0 && length > size - offset)) {
    return Corrupt(path + ": file is truncated (" + std::to_string(size) +
                   " bytes, wanted " + std::to_string(offset + length) + ")");
  }
  if (length == 0) length = size - offset;
  out.resize(length);  // within the capacity of an earlier read: no fresh pages
  uint64_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd, out.data() + done, length - done, offset + done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read", path, errno);
    }
    if (n == 0) return Corrupt(path + ": file is truncated");
    done += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Status LocalBackend::Write(FileType type, const std::string& name, ByteView data) {
  return WriteNew(*this, type, name, data, [&] {
    return CreateFile(type, name, [&](int fd, const std::string& tmp) { return WriteAll(fd, data, tmp); });
  });
}

namespace {

// Gives the unnamed temporary file `fd` (O_TMPFILE, `size` bytes) the name
// `path`, read-only and synced as CreateFile leaves its files. nullopt when
// it cannot be linked (a named or unlinked file, another file system, no
// /proc): the caller copies instead.
std::optional<Status> LinkTemporary(int fd, uint64_t size, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0 || st.st_nlink != 0 || !S_ISREG(st.st_mode) ||
      static_cast<uint64_t>(st.st_size) != size) {
    return std::nullopt;
  }
  if (::fchmod(fd, 0400) != 0) return ErrnoError("chmod", path, errno);
  if (::fsync(fd) != 0) return ErrnoError("fsync", path, errno);
  // linkat with AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; through /proc it
  // needs nothing (an O_TMPFILE made without O_EXCL may be linked).
  std::string self = "/proc/self/fd/" + std::to_string(fd);
  if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW) == 0) {
    return Status::Ok();
  }
  if (errno == EEXIST) return Conflict(path + ": file already exists");
  return std::nullopt;
}

}  // namespace

std::string LocalBackend::TemporaryFolder() {
  std::string dir = root_ + "/" + FileTypeDir(FileType::kPack);
#ifdef O_TMPFILE
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return dir;
  }
#endif
  return {};
}

// The folders a file of `type` goes in. Repositories made by other tools
// may lack some (rustic makes no locks/), and restic creates them when it
// first writes there, so this does too; the repository's root must exist.
Status LocalBackend::MakeFolders(FileType type, const std::string& dir) {
  Status made = MakeDir(dir);  // one call when only dir, or nothing, is missing
  if (made.ok() || made.error().kind() != ErrorKind::kNotFound) return made;
  struct stat st;
  if (::stat(root_.c_str(), &st) != 0) return ErrnoError("stat", root_, errno);
  STASH_RETURN_IF_ERROR(MakeDir(root_ + "/" + FileTypeDir(type)));
  return MakeDir(dir);
}

Status LocalBackend::WriteFromFile(FileType type, const std::string& name, int fd, uint64_t size) {
  std::string path = PathOf(type, name);
  STASH_RETURN_IF_ERROR(MakeFolders(type, DirName(path)));
  std::optional<Status> linked = LinkTemporary(fd, size, path);
  if (linked && linked->ok()) SyncDir(DirName(path));
  Status created = linked ? *linked : CreateFile(type, name, [&](int out, const std::string& tmp) {
    return CopyFile(fd, size, out, tmp);
  });
  if (created.ok() || created.error().kind() != ErrorKind::kConflict) return created;
  // The name is taken (rare): compare the contents as Write does, mapped.
  return Backend::WriteFromFile(type, name, fd, size);
}

// Writes a temporary file and links it in under the real name: link, unlike
// rename, never replaces a file another writer put there meanwhile.
Status LocalBackend::CreateFile(FileType type, const std::string& name, const Fill& fill) {
  std::string path = PathOf(type, name);
  std::string dir = DirName(path);
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) return Conflict(path + ": file already exists");
  std::string tmp = dir + "/.tmp-" + HexEncode(RandomBytes(8));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno == ENOENT) {
    STASH_RETURN_IF_ERROR(MakeFolders(type, dir));
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  }
  if (fd < 0) return ErrnoError("create", tmp, errno);
  Status written = fill(fd, tmp);
  if (written.ok() && ::fsync(fd) != 0) written = ErrnoError("fsync", tmp, errno);
  ::close(fd);
  if (written.ok() && ::chmod(tmp.c_str(), 0400) != 0) written = ErrnoError("chmod", tmp, errno);
  if (written.ok()) written = LinkInPlace(tmp, path);
  ::unlink(tmp.c_str());
  if (!written.ok()) return written;
  SyncDir(dir);
  return Status::Ok();
}

Status LocalBackend::Remove(FileType type, const std::string& name) {
  std::string path = PathOf(type, name);
  if (::unlink(path.c_str()) != 0) return ErrnoError("remove", path, errno);
  return Status::Ok();
}

}  // namespace stash
