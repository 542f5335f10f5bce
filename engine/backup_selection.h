// BackupSelection: what a backup leaves out, by restic 0.14's rules.
//
// By name (before the entry is even stat'ed):
//  * --exclude patterns (PathFilter) match the absolute path;
//  * --iexclude patterns do too, with pattern and path lower-cased;
//  * --exclude-if-present FILE[:HEADER] leaves out everything in a folder
//    that holds FILE (starting with HEADER, if given), except FILE itself;
//    the folder stays, nearly empty. --exclude-caches is the same with
//    "CACHEDIR.TAG:Signature: 8a477f597d28d172789f06886806bc55".
// By metadata:
//  * --exclude-larger-than leaves out every non-folder larger than the size;
//  * -x/--one-file-system leaves out what lies on another device than the
//    target it is under, but keeps a folder whose parent is on the target's
//    device (a mount point stays, empty).
//
// Every path given to it is absolute and clean. The walk asks from several
// threads at once.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/filter.h"

namespace stash {

inline constexpr const char* kCacheDirTag = "CACHEDIR.TAG:Signature: 8a477f597d28d172789f06886806bc55";

struct SelectionSpec {
  std::vector<std::string> excludes;    // --exclude and --exclude-file patterns
  std::vector<std::string> iexcludes;   // --iexclude and --iexclude-file patterns
  std::vector<std::string> if_present;  // --exclude-if-present FILE[:HEADER]
  bool exclude_caches = false;          // --exclude-caches
  std::optional<int64_t> max_size;      // --exclude-larger-than, in bytes
  bool one_file_system = false;         // -x: the targets' devices only
};

// restic's check of one flag's patterns: kInvalid reads
// "<flag>: invalid pattern(s) provided:\n<pattern>\n<pattern>...".
Status ValidatePatterns(const std::string& flag, const std::vector<std::string>& patterns);

// strings.ToLower: UTF-8 lower-cased by code point; invalid bytes become U+FFFD.
std::string LowerUtf8(const std::string& s);

class BackupSelection {
 public:
  // kInvalid for a malformed pattern or an empty tag file name; for -x each
  // target must be stat'able.
  static Result<std::shared_ptr<BackupSelection>> Make(const SelectionSpec& spec,
                                                       const std::vector<std::string>& targets);

  // False: leave `path` out for its name (patterns, tag files).
  bool SelectByName(const std::string& path);
  // False: leave `path` out for its size or device.
  bool Select(const std::string& path, const struct stat& st) const;

  // Problems with tag files ("invalid signature in exclusion tagfile ..."),
  // which restic prints but does not count as errors.
  std::vector<std::string> TakeNotices();

 private:
  struct TagFile {
    std::string name, header;
  };
  bool ExcludedByTag(const TagFile& tag, const std::string& path);
  bool FolderHasTag(const std::string& dir, const TagFile& tag);
  bool OnAllowedDevice(const std::string& path, uint64_t dev) const;

  PathFilter excludes_, iexcludes_;
  std::vector<TagFile> tags_;
  std::optional<int64_t> max_size_;
  bool one_file_system_ = false;
  std::map<std::string, uint64_t> devices_;  // target -> its device, for -x

  std::mutex mu_;  // guards what follows
  std::map<std::pair<size_t, std::string>, bool> tagged_;  // (tag, folder) -> excluded
  std::vector<std::string> notices_;
};

}  // namespace stash
