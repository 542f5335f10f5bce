// Go's time format, as restic writes it into snapshots and tables.
//
// restic names snapshots by the SHA-256 of their JSON, so the times in them
// must come out as the very bytes Go's time package writes. See
// docs/repository-format.md, 6.3 and 6.4.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stash {

// A point in time with the UTC offset it was written in. Go keeps the
// offset of a parsed time, and forget's day/week buckets use it.
struct Timestamp {
  int64_t seconds = 0;     // since the Unix epoch, UTC
  uint32_t nanos = 0;      // 0..999,999,999
  int32_t utc_offset = 0;  // seconds east of UTC; 0 prints as "Z"

  // The current time in the local time zone (TZ), as Go's time.Now().
  static Timestamp Now();
  // `seconds`/`nanos` in the machine's local zone (its offset at that time).
  static Timestamp Local(int64_t seconds, uint32_t nanos);

  auto operator<=>(const Timestamp& o) const {
    if (seconds != o.seconds) return seconds <=> o.seconds;
    return nanos <=> o.nanos;
  }
  bool operator==(const Timestamp& o) const {
    return seconds == o.seconds && nanos == o.nanos;
  }
};

// RFC 3339 with nanoseconds, trailing zeros of the fraction trimmed, "Z" for
// a zero offset: Go's time.RFC3339Nano, e.g. "2022-09-01T12:00:00.1234+02:00".
// Years outside 0..9999 are clamped as restic does before marshaling.
std::string FormatRfc3339Nano(const Timestamp& t);

// Parses RFC 3339 (any fraction length, "Z" or +hh:mm/-hh:mm offset).
std::optional<Timestamp> ParseRfc3339(std::string_view text);

// "2006-01-02 15:04:05" in the timestamp's own offset, as restic's tables
// print times.
std::string FormatTableTime(const Timestamp& t);

// Go's time.Time.String() of a time read from JSON, as restic's messages
// print it: "2006-01-02 15:04:05.999999999 -0700 MST" in the timestamp's own
// offset. The zone name is "UTC" for offset 0; for another offset, the local
// zone's abbreviation where that zone had this offset at that instant (Go
// then takes the local zone), else the offset again ("+0200 +0200").
std::string FormatGoTimeString(const Timestamp& t);

}  // namespace stash
