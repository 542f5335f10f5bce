#include "storage/backends/backend.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "base/in_order.h"

namespace stash {

const char* FileTypeDir(FileType type) {
  switch (type) {
    case FileType::kConfig: return "config";
    case FileType::kKey: return "keys";
    case FileType::kSnapshot: return "snapshots";
    case FileType::kIndex: return "index";
    case FileType::kLock: return "locks";
    case FileType::kPack: return "data";
  }
  return "?";
}

std::string ObjectPath(FileType type, const std::string& name) {
  if (type == FileType::kConfig) return "config";
  if (type == FileType::kPack) {
    return std::string("data/") + name.substr(0, 2) + "/" + name;
  }
  return std::string(FileTypeDir(type)) + "/" + name;
}

bool IsRepositoryFileName(std::string_view name) {
  if (name.size() != 64) return false;
  for (char c : name) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

namespace {

// A store that writes a new file in place (rclone's REST server does) shows
// another writer's upload while it is under way, so a stored file shorter
// than ours may still grow into it. Look again while it grows; a file that
// has stopped growing for kStillChecks looks in a row is finished.
constexpr int kStillChecks = 4;
constexpr auto kFirstWait = std::chrono::milliseconds(25);
constexpr auto kLongestWait = std::chrono::milliseconds(400);
constexpr auto kGrowthDeadline = std::chrono::seconds(60);

}  // namespace

Status SameContent(Backend& backend, FileType type, const std::string& name, ByteView data,
                   const std::string& what) {
  Error conflict = Conflict(what + ": file already exists with different content");
  auto deadline = std::chrono::steady_clock::now() + kGrowthDeadline;
  std::chrono::milliseconds wait = kFirstWait;
  uint64_t last_size = 0;
  int still = 0;
  for (;;) {
    auto info = backend.Stat(type, name);
    if (!info.ok()) {
      // Gone again since the create was refused: the other writer's file was
      // removed, which is still not our write.
      return info.error().kind() == ErrorKind::kNotFound ? conflict : info.error();
    }
    if (info->size > data.size()) return conflict;
    if (info->size == data.size()) break;
    still = info->size > last_size ? 0 : still + 1;
    last_size = info->size;
    if (still >= kStillChecks || std::chrono::steady_clock::now() + wait > deadline) return conflict;
    std::this_thread::sleep_for(wait);
    wait = std::min<std::chrono::milliseconds>(wait * 2, kLongestWait);
  }
  if (data.empty()) return Status::Ok();
  STASH_ASSIGN_OR_RETURN(Bytes stored, backend.Read(type, name));
  if (stored.size() != data.size() || !std::equal(stored.begin(), stored.end(), data.begin())) {
    return conflict;
  }
  return Status::Ok();
}

Result<Bytes> Backend::Read(FileType type, const std::string& name, uint64_t offset,
                            uint64_t length) {
  Bytes out;
  STASH_RETURN_IF_ERROR(ReadInto(type, name, offset, length, out));
  return out;
}

Status Backend::WriteFromFile(FileType type, const std::string& name, int fd, uint64_t size) {
  return WithMappedFile(fd, size, [&](ByteView data) { return Write(type, name, data); });
}

Status WithMappedFile(int fd, uint64_t size, const std::function<Status(ByteView)>& use) {
  if (size == 0) return use({});
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) return IOError(std::string("mapping a file to upload: ") + std::strerror(errno));
  ::madvise(map, size, MADV_SEQUENTIAL);
  Status done = use(ByteView(static_cast<const uint8_t*>(map), size));
  ::munmap(map, size);
  return done;
}

Status WriteNew(Backend& backend, FileType type, const std::string& name, ByteView data,
                const std::function<Status()>& create) {
  Status created = create();
  if (created.ok() || created.error().kind() != ErrorKind::kConflict) return created;
  return SameContent(backend, type, name, data, backend.Location() + " " + ObjectPath(type, name));
}

Status WriteNewFromFile(Backend& backend, FileType type, const std::string& name, int fd, uint64_t size,
                        const std::function<Status()>& create) {
  Status created = create();
  if (created.ok() || created.error().kind() != ErrorKind::kConflict) return created;
  return WithMappedFile(fd, size, [&](ByteView data) {
    return SameContent(backend, type, name, data, backend.Location() + " " + ObjectPath(type, name));
  });
}

Status RemoveFiles(Backend& backend, FileType type, const std::vector<std::string>& names,
                   bool missing_ok) {
  return LoadInOrder<bool>(
      names.size(), kConcurrentRequests,
      [&](size_t i) -> Result<bool> {
        Status removed = backend.Remove(type, names[i]);
        if (removed.ok() || (missing_ok && removed.error().kind() == ErrorKind::kNotFound)) return true;
        return removed.error().Wrap(std::string("unable to remove ") + FileTypeDir(type) + "/" + names[i]);
      },
      [](size_t, bool&&) { return Status::Ok(); });
}

Result<std::vector<FileInfo>> ListConfig(Backend& backend) {
  std::vector<FileInfo> out;
  auto info = backend.Stat(FileType::kConfig, "config");
  if (info.ok()) out.push_back(*info);
  else if (info.error().kind() != ErrorKind::kNotFound) return info.error();
  return out;
}

}  // namespace stash
