// The lists a backup reads from files, parsed with restic 0.14's rules:
// --files-from, --files-from-verbatim, --files-from-raw, --exclude-file and
// --iexclude-file, and the size of --exclude-larger-than. Pure text
// handling (plus Glob, which reads folders), so each rule is unit tested.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace stash {

using EnvLookup = std::function<std::string(const std::string& name)>;

// A text file's bytes as UTF-8: a UTF-8 byte order mark is dropped, and
// UTF-16 with a byte order mark (either endianness) is converted.
std::string DecodeText(std::string_view data);

// Lines as Go's bufio.Scanner splits them: at "\n", each without a trailing
// "\r"; text after the last "\n" is a line, an empty remainder is not.
std::vector<std::string> SplitLines(std::string_view text);

// --files-from: every line trimmed of white space; empty lines and lines
// starting with '#' skipped. What is left are Glob patterns.
std::vector<std::string> FilesFromPatterns(std::string_view text);

// --files-from-verbatim: every non-empty line exactly as written.
std::vector<std::string> FilesFromVerbatim(std::string_view text);

// --files-from-raw: names each terminated by a NUL byte. kInvalid for a
// missing final NUL or an empty name.
Result<std::vector<std::string>> FilesFromRaw(std::string_view data);

// --exclude-file: every line trimmed; empty lines and '#' comments
// skipped; $NAME and ${NAME} replaced by `env` (see ExpandVariables).
std::vector<std::string> ExcludeFilePatterns(std::string_view text, const EnvLookup& env);

// Go's os.Expand: $NAME, ${NAME} and the one-character names $*, $#, $$,
// $@, $!, $?, $- and $0-$9 are replaced by `lookup`; a "$" followed by
// anything else stays; a bad "${" or "${}" is dropped.
std::string ExpandVariables(std::string_view s, const EnvLookup& lookup);

// --exclude-larger-than: a decimal integer with an optional unit b/B, k/K,
// m/M, g/G or t/T (powers of 1024). kInvalid in strconv.ParseInt's words.
Result<int64_t> ParseSize(std::string_view s);

// Go's filepath.Glob: the sorted names matching `pattern` (filepath.Match
// per component); a pattern without wildcards is returned if it exists
// (lstat). Folders that cannot be read match nothing. kInvalid for a
// malformed pattern.
Result<std::vector<std::string>> Glob(const std::string& pattern);

}  // namespace stash
