#include "engine/backup_scan.h"

#include <dirent.h>
#include <sys/stat.h>

#include "engine/paths.h"

namespace stash {

BackupScan::BackupScan(std::vector<std::string> targets, BackupSelection* selection,
                       BackupProgress& progress)
    : selection_(selection), progress_(progress) {
  thread_ = std::thread([this, targets = std::move(targets)] {
    for (const auto& t : targets) Walk(t);
    progress_.scan_done = true;
  });
}

BackupScan::~BackupScan() {
  stop_ = true;
  thread_.join();
}

void BackupScan::Walk(const std::string& path) {
  if (stop_) return;
  std::string abs = selection_ ? AbsolutePath(path) : "";
  if (selection_ && !selection_->SelectByName(abs)) return;
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return;
  if (selection_ && !selection_->Select(abs, st)) return;
  if (S_ISREG(st.st_mode)) {
    progress_.total_files++;
    progress_.total_bytes += static_cast<uint64_t>(st.st_size);
    return;
  }
  if (!S_ISDIR(st.st_mode)) return;
  DIR* d = ::opendir(path.c_str());
  if (!d) return;
  std::vector<std::string> children;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") children.push_back(path == "/" ? "/" + n : path + "/" + n);
  }
  ::closedir(d);
  for (const auto& c : children) Walk(c);
}

}  // namespace stash
