// Encoding helpers that reproduce Go's encoding/json and strconv output.
//
// restic names trees and snapshots by the SHA-256 of their JSON, so to
// deduplicate with restic (same tree => same id) we must produce the very
// same bytes Go does: same string escaping (and same time format:
// base/go_time.h). See docs/repository-format.md, 6.3 and 6.4.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stash {

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
