// BackupScan: counts the files and bytes a backup will read, on a thread
// of its own, so progress can show a percentage and an ETA (as restic's
// scanner does). It stops when destroyed.
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "engine/archiver.h"
#include "engine/backup_selection.h"

namespace stash {

class BackupScan {
 public:
  // `selection` (may be null) leaves out what the backup leaves out.
  BackupScan(std::vector<std::string> targets, BackupSelection* selection, BackupProgress& progress);
  ~BackupScan();
  BackupScan(const BackupScan&) = delete;
  BackupScan& operator=(const BackupScan&) = delete;

 private:
  void Walk(const std::string& path);

  BackupSelection* selection_;
  BackupProgress& progress_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace stash
