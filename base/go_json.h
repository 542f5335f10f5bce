// Encoding helpers that reproduce Go's encoding/json and strconv output.
//
// restic names trees and snapshots by the SHA-256 of their JSON, so to
// deduplicate with restic (same tree => same id) we must produce the very
// same bytes Go does: same string escaping, same time format. See
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

// Go's strconv.Quote without the surrounding quotes: how restic escapes a
// file name before it goes into a tree node. "Printable" runes (kept
// literally) are those of Go 1.19, i.e. Unicode 13.0, which built restic
// 0.14; runes added in later Unicode versions come out as \u/\U escapes.
std::string GoQuoteInner(std::string_view raw);

// Inverse of GoQuoteInner: strconv.Unquote("\"" + s + "\""). nullopt when s
// is not a valid quoted body (then restic fails to decode the tree too).
std::optional<std::string> GoUnquoteInner(std::string_view quoted);

// Appends s as a JSON string literal (with quotes) exactly as Go's
// encoding/json does: HTML-safe escapes (<, >, & as \u003c...), \u2028 and
// \u2029 escaped, each invalid UTF-8 byte written as \ufffd.
void AppendGoJsonString(std::string& out, std::string_view s);

// Reading JSON as Go's encoding/json does (for the RapidJSON-based decoders
// of trees and snapshots).

// Go's decoder replaces each byte that is not valid UTF-8 in a JSON string
// by U+FFFD, where RapidJSON keeps it; this applies Go's rule.
std::string GoJsonStringValue(std::string_view decoded);

// Go matches object keys to struct fields case-insensitively, so "Name"
// fills `name` too (ASCII case folding here; Go also folds e.g. U+212A).
bool GoJsonKeyMatches(std::string_view key, std::string_view field);

}  // namespace stash
