// The servers' log: one line on stderr per call, prefixed with the UTC time
// ("2026-12-03T18:25:00Z ..."), whole lines even from many threads.
#pragma once

#include <string>

namespace stash {

void LogLine(const std::string& line);

}  // namespace stash
