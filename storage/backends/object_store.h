// What the object-store backends (S3, Azure, GCS, B2, Swift) share: where a
// repository file lives under the location's prefix, which listed keys are
// repository files, and how a write or delete answer maps onto the Backend
// contract. Each backend keeps only its protocol; the rules live here once.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "storage/backends/backend.h"
#include "net/http_client.h"

namespace stash {

// The key of every file of a repository below a prefix ("" = the bucket's
// root). The default layout is restic's: "config", "keys/<id>",
// "data/<id[0:2]>/<id>". kS3Legacy is restic's old S3 layout ("key/<id>",
// "lock/", "snapshot/", "index/", flat "data/<id>"), still read and written
// where an existing repository uses it.
class ObjectLayout {
 public:
  enum class Style { kDefault, kS3Legacy };

  explicit ObjectLayout(std::string prefix, Style style = Style::kDefault)
      : prefix_(std::move(prefix)), style_(style) {}

  // The key relative to the prefix: "keys/<id>", "data/ab/<id>".
  std::string Relative(FileType type, const std::string& name) const;
  // The full key: "<prefix>/keys/<id>".
  std::string Key(FileType type, const std::string& name) const;
  // What to list for a type: "<prefix>/keys/", "<prefix>/data/".
  std::string ListPrefix(FileType type) const;
  // The repository file name a listed full key stands for, or nothing when
  // the key is not one this layout would write for that type (temporary
  // uploads, other names, misplaced packs, keys of another folder). Every
  // name returned can be read back under that name.
  std::optional<std::string> NameOf(FileType type, std::string_view key) const;

  const std::string& prefix() const { return prefix_; }
  Style style() const { return style_; }

 private:
  std::string prefix_;
  Style style_;
};

// The contract's answer to a DELETE: true when the object is gone because
// of it. A 404 on a retried request means an earlier attempt removed it,
// so it counts as done; a 404 on the first attempt is the caller's
// kNotFound (left to the backend's failure message).
bool DeleteDone(const http::HttpResponse& response);

// Finishes a ranged read whose answer failed as kCorrupt: servers refuse a
// range that starts exactly at the end (416), yet reading "to the end"
// from there is an empty read, not a truncated file. Looks the size up
// then; any other failure is passed on unchanged.
Result<Bytes> FinishRead(Backend& backend, FileType type, const std::string& name,
                         uint64_t offset, uint64_t length, Result<Bytes> read);

}  // namespace stash
