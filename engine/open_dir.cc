#include "engine/open_dir.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>

#include "engine/go_errors.h"

namespace stash {

OpenDir::OpenDir(const std::string& path) : dir_(::opendir(path.c_str())) {
  if (!dir_) {
    // restic's file system layer wraps the error in "Open".
    error_ = "Open: " + GoPathError("open", path, errno);
    return;
  }
  while (dirent* e = ::readdir(dir_)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names_.push_back(n);
  }
  std::sort(names_.begin(), names_.end());
}

OpenDir::~OpenDir() {
  if (dir_) ::closedir(dir_);
}

int OpenDir::Stat(const std::string& name, struct stat* st) const {
  return ::fstatat(::dirfd(dir_), name.c_str(), st, AT_SYMLINK_NOFOLLOW);
}

}  // namespace stash
