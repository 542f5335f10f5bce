// Go's time.Duration text, both ways: the schedule `@every 1h30m` is parsed
// as Go's time.ParseDuration reads it, and a Repository's
// status.lastBackupDuration is written as Go's Duration.String() prints it
// ("1.834928153s", "2m3.5s", "500ms"), so tools that read either see what
// Stash 0.8.3 wrote.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace stash {

// Nanoseconds. Accepts what Go accepts: an optional sign, then one or more
// decimal numbers (fractions allowed) each with a unit ns, us, µs, μs, ms,
// s, m or h ("1h30m", "1.5s", "-2m", "0"). kInvalid names the text and the
// reason ("missing unit", "unknown unit \"d\"", "overflow").
Result<int64_t> ParseGoDuration(std::string_view text);

// Go's Duration.String(): "0s", "1.5µs", "12ms", "1.834928153s", "1h2m3s".
std::string FormatGoDuration(int64_t nanoseconds);

}  // namespace stash
