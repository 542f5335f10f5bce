#include "base/format_bytes.h"

#include <cstdio>

namespace stash {

std::string FormatBytes(uint64_t count) {
  static const char* const kUnits[] = {"TiB", "GiB", "MiB", "KiB"};
  for (int i = 0; i < 4; ++i) {
    uint64_t unit = uint64_t{1} << (40 - 10 * i);
    if (count > unit) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.3f %s", static_cast<double>(count) / static_cast<double>(unit), kUnits[i]);
      return buf;
    }
  }
  return std::to_string(count) + " B";
}

}  // namespace stash
