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

  // All files of a type. Names that are not restic file names (temporary
  // files, stray folders) are left out.
  virtual Result<std::vector<FileInfo>> List(FileType type) = 0;

  // kNotFound if the file does not exist.
  virtual Result<FileInfo> Stat(FileType type, const std::string& name) = 0;

  // `length` bytes from `offset`; length 0 reads to the end. Reading past
  // the end is kCorrupt (a truncated file), never a short read.
  virtual Result<Bytes> Read(FileType type, const std::string& name,
                             uint64_t offset = 0, uint64_t length = 0) = 0;

  // Stores a whole file atomically: readers see all of it or nothing.
  // Fails with kConflict if the file already exists.
  virtual Status Write(FileType type, const std::string& name,
                       ByteView data) = 0;

  virtual Status Remove(FileType type, const std::string& name) = 0;
};

// List(kConfig) for backends that list by prefix: the config file alone
// (from Stat), or nothing when there is none.
Result<std::vector<FileInfo>> ListConfig(Backend& backend);

}  // namespace stash
