#include "storage/backend.h"

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

Result<std::vector<FileInfo>> ListConfig(Backend& backend) {
  std::vector<FileInfo> out;
  auto info = backend.Stat(FileType::kConfig, "config");
  if (info.ok()) out.push_back(*info);
  else if (info.error().kind() != ErrorKind::kNotFound) return info.error();
  return out;
}

}  // namespace stash
