// OpenDir: a folder as the archiver walks it: its entry names, sorted as
// restic sorts them, and a descriptor to stat entries by name (cheaper than
// resolving the full path again for every entry).
#pragma once

#include <dirent.h>
#include <sys/stat.h>

#include <string>
#include <vector>

namespace stash {

class OpenDir {
 public:
  // Lists `path`; on failure error() says why, in restic's wording.
  explicit OpenDir(const std::string& path);
  ~OpenDir();
  OpenDir(const OpenDir&) = delete;
  OpenDir& operator=(const OpenDir&) = delete;

  // Empty when the folder was listed.
  const std::string& error() const { return error_; }
  // Entry names without "." and "..", sorted bytewise.
  const std::vector<std::string>& names() const { return names_; }
  // lstat of the entry `name` (0, or -1 with errno).
  int Stat(const std::string& name, struct stat* st) const;

 private:
  DIR* dir_;
  std::string error_;
  std::vector<std::string> names_;
};

}  // namespace stash
