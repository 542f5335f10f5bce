// Live backup progress: a status line on a terminal (rewritten in place,
// as restic shows it) or restic-style JSON status messages with --json.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "base/format_bytes.h"
#include "engine/archiver.h"

namespace stash::cli {

// Whole seconds as restic shows elapsed time: "m:ss", or "h:mm:ss" from an hour.
std::string Clock(double seconds);

class ProgressPrinter {
 public:
  enum class Mode { kTerminal, kJson };
  ProgressPrinter(BackupProgress& progress, Mode mode, std::chrono::milliseconds interval);
  // Stops the thread and clears the status line.
  ~ProgressPrinter();

  // The status as restic's JSON status message.
  static std::string JsonStatus(BackupProgress& p, double elapsed);
  // The status as one terminal line: "[0:05] 45.23%  120 files 1.2 GiB, ...".
  static std::string StatusLine(BackupProgress& p, double elapsed);

 private:
  void Loop();

  BackupProgress& progress_;
  Mode mode_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace stash::cli
