#include "cmd/progress.h"

#include <cstdio>
#include <iostream>

#include "base/go_json.h"

namespace stash::cli {
std::string Clock(double seconds) {
  long s = static_cast<long>(seconds);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

namespace {

double Fraction(BackupProgress& p) {
  uint64_t total = p.total_bytes.load();
  if (total == 0) return 0;
  double f = static_cast<double>(p.bytes_done.load()) / static_cast<double>(total);
  return f > 1 ? 1 : f;
}

}  // namespace

ProgressPrinter::ProgressPrinter(BackupProgress& progress, Mode mode,
                                 std::chrono::milliseconds interval)
    : progress_(progress), mode_(mode), interval_(interval),
      start_(std::chrono::steady_clock::now()) {
  thread_ = std::thread([this] { Loop(); });
}

ProgressPrinter::~ProgressPrinter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (mode_ == Mode::kTerminal) std::cout << "\r\033[2K" << std::flush;
}

void ProgressPrinter::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, interval_, [this] { return stop_; })) {
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (mode_ == Mode::kJson) {
      std::cout << JsonStatus(progress_, elapsed) << "\n" << std::flush;
    } else {
      std::cout << "\r\033[2K" << StatusLine(progress_, elapsed) << std::flush;
    }
  }
}

std::string ProgressPrinter::JsonStatus(BackupProgress& p, double elapsed) {
  double f = Fraction(p);
  std::string o = "{\"message_type\":\"status\"";
  auto field = [&](const char* k, uint64_t v) {
    if (v) o += std::string(",\"") + k + "\":" + std::to_string(v);
  };
  field("seconds_elapsed", static_cast<uint64_t>(elapsed));
  if (f > 0 && f < 1 && p.scan_done) {
    field("seconds_remaining", static_cast<uint64_t>(elapsed / f - elapsed));
  }
  char pct[32];
  std::snprintf(pct, sizeof pct, "%g", f);
  o += std::string(",\"percent_done\":") + pct;
  field("total_files", p.total_files);
  field("files_done", p.files_done);
  field("total_bytes", p.total_bytes);
  field("bytes_done", p.bytes_done);
  field("error_count", p.errors);
  auto current = p.CurrentFiles();
  if (!current.empty()) {
    o += ",\"current_files\":[";
    for (size_t i = 0; i < current.size(); ++i) {
      if (i) o += ",";
      AppendGoJsonString(o, current[i]);
    }
    o += "]";
  }
  return o + "}";
}

std::string ProgressPrinter::StatusLine(BackupProgress& p, double elapsed) {
  double f = Fraction(p);
  char buf[256];
  std::snprintf(buf, sizeof buf, "[%s] %.2f%%  %llu files %s, total %llu files %s, %llu errors",
                Clock(elapsed).c_str(), f * 100, (unsigned long long)p.files_done.load(),
                FormatBytes(p.bytes_done).c_str(), (unsigned long long)p.total_files.load(),
                FormatBytes(p.total_bytes).c_str(), (unsigned long long)p.errors.load());
  std::string line = buf;
  if (f > 0 && f < 1 && p.scan_done) line += " ETA " + Clock(elapsed / f - elapsed);
  return line;
}

}  // namespace stash::cli
