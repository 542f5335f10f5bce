// Backend: the one seam between a repository and the place it is stored.
//
// A backend stores opaque named files of a few types, in restic's layout.
// Everything above it (encryption, formats, caching, retries) is written
// once against this interface, so local disk, S3 and REST share it.
// Implementations must be safe to call from several threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace stash {

enum class FileType { kConfig, kKey, kSnapshot, kIndex, kLock, kPack };

// "config", "keys", "snapshots", "index", "locks", "data".
const char* FileTypeDir(FileType type);

// The path of a file relative to the repository root in restic's default
// layout: "config", "keys/<id>", "data/<id[0:2]>/<id>", ...
std::string ObjectPath(FileType type, const std::string& name);

struct FileInfo {
  std::string name;
  uint64_t size = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Where this backend points, for messages ("/srv/repo", "s3:host/bucket").
  virtual std::string Location() const = 0;

  // Creates the empty repository layout. Fails with kConflict if a config
  // file is already there.
  virtual Status Create() = 0;

  // All files of a type, in no particular order and however many there
  // are (backends page through their listings). Only names that pass
  // IsRepositoryFileName and sit where ObjectPath puts them are listed;
  // anything else (temporary uploads, stray names, a pack in the wrong
  // data/xx folder) is skipped silently, as restic skips names it cannot
  // parse. Every listed name can be read back by that name.
  virtual Result<std::vector<FileInfo>> List(FileType type) = 0;

  // kNotFound if the file does not exist.
  virtual Result<FileInfo> Stat(FileType type, const std::string& name) = 0;

  // `length` bytes from `offset` into `out` (resized to what was read);
  // length 0 reads to the end (so offset == size with length 0 is an empty
  // read). Reading past the end is kCorrupt (a truncated file), never a
  // short read; kNotFound if there is no file. On error `out` holds nothing
  // useful. Filling the caller's buffer lets a reader of many ranges reuse
  // one buffer's pages rather than fault in fresh ones every time.
  virtual Status ReadInto(FileType type, const std::string& name, uint64_t offset,
                          uint64_t length, Bytes& out) = 0;

  // ReadInto, into a new buffer.
  Result<Bytes> Read(FileType type, const std::string& name, uint64_t offset = 0,
                     uint64_t length = 0);

  // Stores a whole file atomically: readers see all of it or nothing, never
  // a mix of two writers. If the name already exists, the write succeeds
  // when the stored bytes equal `data` (a retry whose first answer was lost,
  // or two writers of the same content: names are content hashes) and fails
  // with kConflict when they differ. See WriteNew.
  virtual Status Write(FileType type, const std::string& name,
                       ByteView data) = 0;

  // Write, from the first `size` bytes of the open file `fd` instead of
  // memory, so a pack that waits in a temporary file need not be mapped
  // into the process whole while it uploads. The default maps the file and
  // calls Write; a backend that can copy from a descriptor does so. A pack's
  // name is the SHA-256 of its bytes (restic names packs so): a backend may
  // hand it to the server as the body's checksum instead of hashing again.
  virtual Status WriteFromFile(FileType type, const std::string& name, int fd, uint64_t size);

  // A folder on the stored files' own file system where a writer may
  // create unnamed temporary files (O_TMPFILE) that WriteFromFile then
  // links into place rather than copies. Empty (the default) when the
  // backend has none.
  virtual std::string TemporaryFolder() { return {}; }

  // kNotFound if there was no such file. A retried request that finds the
  // file gone counts as removed (an earlier attempt got through).
  virtual Status Remove(FileType type, const std::string& name) = 0;
};

// A restic file name: 64 lowercase hex digits (the file's id).
bool IsRepositoryFileName(std::string_view name);

// Runs `use` over the first `size` bytes of the open file `fd`, mapped
// read-only for the call (an empty view for size 0).
Status WithMappedFile(int fd, uint64_t size, const std::function<Status(ByteView)>& use);

// The write rule every backend shares. `create` stores the file so that it
// fails with kConflict when the name already exists (a conditional create,
// or a look first where the store has none); WriteNew then compares the
// stored file with `data` and answers as Write's contract says.
Status WriteNew(Backend& backend, FileType type, const std::string& name, ByteView data,
                const std::function<Status()>& create);

// WriteNew for the first `size` bytes of the open file `fd`: `create` sends
// them from the file; they are mapped only if the name exists, to compare.
Status WriteNewFromFile(Backend& backend, FileType type, const std::string& name, int fd, uint64_t size,
                        const std::function<Status()>& create);

// The reconciliation alone: Ok when the file `name` holds exactly `data`,
// kConflict (naming `what`) when it holds something else. A stored file
// shorter than `data` is looked at again while it grows (another writer's
// upload under way on a store that writes in place), so this may wait.
Status SameContent(Backend& backend, FileType type, const std::string& name, ByteView data,
                   const std::string& what);

// How many small-file requests (reads, removals) a caller keeps in flight
// when it has many to make: on a remote backend each is a round trip. As
// many as the HTTP client keeps idle connections, so none needs a new one.
inline constexpr size_t kConcurrentRequests = 8;

// Removes the files `names` of `type`, kConcurrentRequests at a time. A
// file already gone counts as
// removed when `missing_ok`. Stops at the first failure in the order of
// `names` and returns it as "unable to remove <dir>/<name>: <why>".
Status RemoveFiles(Backend& backend, FileType type, const std::vector<std::string>& names,
                   bool missing_ok);

// List(kConfig) for backends that list by prefix: the config file alone
// (from Stat), or nothing when there is none.
Result<std::vector<FileInfo>> ListConfig(Backend& backend);

}  // namespace stash
