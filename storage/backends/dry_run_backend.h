// DryRunBackend: what `backup --dry-run` writes through. Reads pass through
// to the real backend; writes and removes succeed without doing anything,
// as restic's dry-run backend does, so the repository is left exactly as
// it was: no pack, index, snapshot or even lock file appears in it.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/backends/backend.h"

namespace stash {

class DryRunBackend : public Backend {
 public:
  explicit DryRunBackend(std::unique_ptr<Backend> real) : real_(std::move(real)) {}

  std::string Location() const override { return real_->Location(); }
  // Creating a repository is not a dry-run operation.
  Status Create() override { return Unsupported("cannot create a repository in a dry run"); }
  Result<std::vector<FileInfo>> List(FileType type) override { return real_->List(type); }
  Result<FileInfo> Stat(FileType type, const std::string& name) override {
    return real_->Stat(type, name);
  }
  Status ReadInto(FileType type, const std::string& name, uint64_t offset, uint64_t length,
                  Bytes& out) override {
    return real_->ReadInto(type, name, offset, length, out);
  }
  Status Write(FileType, const std::string&, ByteView) override { return Status::Ok(); }
  Status Remove(FileType, const std::string&) override { return Status::Ok(); }

 private:
  std::unique_ptr<Backend> real_;
};

}  // namespace stash
