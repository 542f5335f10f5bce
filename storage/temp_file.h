// Unnamed temporary files for scratch data (packs being filled, spilled
// index tables): gone when closed, even after a crash.
#pragma once

#include <string>

namespace stash {

// `preferred` if set, else $TMPDIR if set, else /tmp.
std::string TempFolder(const std::string& preferred = {});

// A new file in `dir`, read-write and close-on-exec: O_TMPFILE where the
// file system has it (no name at all), else `dir/<prefix>-XXXXXX` unlinked
// at once. -1 with errno set when neither works.
int OpenUnnamedFile(const std::string& dir, const char* prefix);

}  // namespace stash
