#include "storage/backends/object_store.h"

namespace stash {
namespace {

const char* LegacyDir(FileType type) {
  switch (type) {
    case FileType::kKey: return "key";
    case FileType::kLock: return "lock";
    case FileType::kSnapshot: return "snapshot";
    case FileType::kIndex: return "index";
    case FileType::kPack: return "data";
    case FileType::kConfig: break;
  }
  return "config";
}

}  // namespace

std::string ObjectLayout::Relative(FileType type, const std::string& name) const {
  if (style_ == Style::kDefault || type == FileType::kConfig) return ObjectPath(type, name);
  return std::string(LegacyDir(type)) + "/" + name;
}

std::string ObjectLayout::Key(FileType type, const std::string& name) const {
  std::string relative = Relative(type, name);
  return prefix_.empty() ? relative : prefix_ + "/" + relative;
}

std::string ObjectLayout::ListPrefix(FileType type) const {
  std::string dir = style_ == Style::kDefault ? FileTypeDir(type) : LegacyDir(type);
  return prefix_.empty() ? dir + "/" : prefix_ + "/" + dir + "/";
}

std::optional<std::string> ObjectLayout::NameOf(FileType type, std::string_view key) const {
  std::string list_prefix = ListPrefix(type);
  if (type == FileType::kConfig || !key.starts_with(list_prefix)) return std::nullopt;
  std::string_view rest = key.substr(list_prefix.size());
  size_t slash = rest.rfind('/');
  std::string_view name = slash == std::string_view::npos ? rest : rest.substr(slash + 1);
  if (!IsRepositoryFileName(name)) return std::nullopt;
  // Only the exact key we would write: the name read back must reach it.
  if (key != Key(type, std::string(name))) return std::nullopt;
  return std::string(name);
}

bool DeleteDone(const http::HttpResponse& response) {
  if (response.status >= 200 && response.status <= 299) return true;
  return response.status == 404 && response.attempts > 1;
}

Result<Bytes> FinishRead(Backend& backend, FileType type, const std::string& name,
                         uint64_t offset, uint64_t length, Result<Bytes> read) {
  if (read.ok() || read.error().kind() != ErrorKind::kCorrupt || length != 0 || offset == 0) {
    return read;
  }
  auto info = backend.Stat(type, name);
  if (info.ok() && info->size == offset) return Bytes{};
  return read;
}

}  // namespace stash
