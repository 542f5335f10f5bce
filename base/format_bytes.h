// Byte counts for people, as restic prints them.
#pragma once

#include <cstdint>
#include <string>

namespace stash {

// restic's formatBytes: "12 B", "1024 B", "1.500 KiB", ... "2.000 TiB" (a
// unit is used only for counts above it).
std::string FormatBytes(uint64_t count);

}  // namespace stash
