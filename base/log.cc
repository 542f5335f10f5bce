#include "base/log.h"

#include <cstdio>
#include <ctime>
#include <mutex>

namespace stash {

void LogLine(const std::string& line) {
  static std::mutex mu;
  char stamp[32];
  time_t now = time(nullptr);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::lock_guard<std::mutex> lock(mu);
  std::fprintf(stderr, "%s %s\n", stamp, line.c_str());
  std::fflush(stderr);
}

}  // namespace stash
