// LocalBackend: a repository in a folder of the local file system.
//
// Same layout and file modes as restic's local backend (files 0400, folders
// 0700, data/00..ff created up front); writes go to a temporary file that
// is fsynced and linked into place (never over another writer's file), so a crash never leaves a partial file
// under a real name.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "storage/backends/backend.h"

namespace stash {

class LocalBackend : public Backend {
 public:
  explicit LocalBackend(std::string root);

  std::string Location() const override { return root_; }
  Status Create() override;
  Result<std::vector<FileInfo>> List(FileType type) override;
  Result<FileInfo> Stat(FileType type, const std::string& name) override;
  Status ReadInto(FileType type, const std::string& name, uint64_t offset, uint64_t length,
                  Bytes& out) override;
  Status Write(FileType type, const std::string& name, ByteView data) override;
  // Links `fd` into place when it is an unnamed temporary file on the
  // repository's file system (see TemporaryFolder): nothing is copied.
  // Otherwise copies inside the kernel (sendfile): the file's pages never
  // enter the process. It does not go through Write: a subclass that
  // overrides Write overrides this too.
  Status WriteFromFile(FileType type, const std::string& name, int fd, uint64_t size) override;
  // The repository's data folder, where packs then fill and are linked in
  // place, if unnamed temporary files can be made there; else empty.
  std::string TemporaryFolder() override;
  Status Remove(FileType type, const std::string& name) override;

 private:
  std::string PathOf(FileType type, const std::string& name) const;
  Status ListDir(const std::string& dir, const std::string& sub,
                 std::vector<FileInfo>& out) const;
  // Writes the new file's bytes into `fd`, a temporary file named `tmp`.
  using Fill = std::function<Status(int fd, const std::string& tmp)>;
  Status CreateFile(FileType type, const std::string& name, const Fill& fill);
  // Creates `dir`, the folder of a file of `type`, and the type's folder
  // above it, where missing.
  Status MakeFolders(FileType type, const std::string& dir);

  std::string root_;
};

}  // namespace stash
