// PathFilter: restic 0.14's include/exclude pattern rules (internal/filter).
//
// The rules, as restic applies them:
//
//  * Empty patterns are ignored. A leading "!" negates a pattern: a path it
//    matches is dropped from what the patterns before it matched (and a
//    folder it matches is not descended into for an include).
//  * The rest is cleaned like Go's filepath.Clean ("a//b/../c/" -> "a/c",
//    "/.." -> "/") and split at "/". A cleaned pattern that starts with "/"
//    is anchored at the root; any other pattern may start at any depth.
//  * A component "**" stands for any number (also zero) of components. The
//    bare pattern "/" behaves like "/**".
//  * Every other component is matched against one path component with Go's
//    filepath.Match: '*' any run of bytes, '?' one character, "[...]" a class
//    of characters and ranges ("[^...]" negated, no "[!...]"), '\' quotes the
//    next byte. Malformed components ("[", "[a-]", "x\") make Compile fail.
//  * A pattern matches a path when it matches a run of the path's components
//    that starts at the root (anchored) or anywhere (floating) and does not
//    need to reach the end: matching a folder matches everything below it.
//
// There is no special meaning for a trailing "/" (it is cleaned away) or "$".

#include "engine/filter.h"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <optional>
#include <utility>

#include "base/string_util.h"

namespace stash {
namespace {

constexpr std::string_view kRoot = "/";       // first component of an absolute path
constexpr std::string_view kAnyDepth = "**";  // any number of components

// ---------------------------------------------------------------------------
// One component: Go's filepath.Match (Unix flavour).

// A code point decoded like Go's utf8.DecodeRuneInString: invalid, overlong,
// surrogate or truncated sequences give U+FFFD with a length of one byte.
struct Rune {
  char32_t code;
  size_t size;
};

Rune DecodeRune(std::string_view s) {
  constexpr Rune kError{0xFFFD, 1};
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char b0 = byte(0);
  if (b0 < 0x80) return {b0, 1};
  size_t size;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  char32_t code;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    size = 2, code = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    size = 3, code = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    size = 4, code = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // no overlong forms
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return kError;
  }
  if (s.size() < size) return kError;
  for (size_t i = 1; i < size; ++i) {
    const unsigned char b = byte(i);
    if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return kError;
    code = (code << 6) | (b & 0x3F);
  }
  return {code, size};
}

// Takes one member character of a "[...]" class off the front of `p`,
// unquoting a backslash. Like Go, this fails for an unquoted '-' or ']', a
// dangling backslash, invalid UTF-8, and when nothing follows the character
// (the class can then never be closed).
std::optional<char32_t> TakeClassChar(std::string_view& p) {
  if (p.empty() || p[0] == '-' || p[0] == ']') return std::nullopt;
  if (p[0] == '\\') {
    p.remove_prefix(1);
    if (p.empty()) return std::nullopt;
  }
  const Rune r = DecodeRune(p);
  p.remove_prefix(r.size);
  if ((r.code == 0xFFFD && r.size == 1) || p.empty()) return std::nullopt;
  return r.code;
}

// The outcome of matching a star-free piece of pattern at the start of a name.
struct ChunkMatch {
  bool malformed = false;
  bool matched = false;
  std::string_view rest;  // what the piece did not consume, if matched
};

constexpr ChunkMatch kMalformed{true, false, {}};

// Matches `chunk` (no unquoted '*' outside a class) at the front of `s`.
// Once the match has failed the chunk is still parsed to the end, so a
// syntax error is reported whatever `s` is; ValidGlob relies on that.
ChunkMatch MatchChunk(std::string_view chunk, std::string_view s) {
  bool failed = false;
  while (!chunk.empty()) {
    if (s.empty()) failed = true;
    switch (chunk[0]) {
      case '[': {
        chunk.remove_prefix(1);
        char32_t c = 0;
        if (!failed) {
          const Rune r = DecodeRune(s);
          c = r.code;
          s.remove_prefix(r.size);
        }
        const bool negated = !chunk.empty() && chunk[0] == '^';
        if (negated) chunk.remove_prefix(1);
        bool in_class = false;
        for (int members = 0;; ++members) {
          if (members > 0 && !chunk.empty() && chunk[0] == ']') {
            chunk.remove_prefix(1);
            break;
          }
          const std::optional<char32_t> lo = TakeClassChar(chunk);
          if (!lo) return kMalformed;
          char32_t hi = *lo;
          if (chunk[0] == '-') {  // TakeClassChar left something behind
            chunk.remove_prefix(1);
            const std::optional<char32_t> end = TakeClassChar(chunk);
            if (!end) return kMalformed;
            hi = *end;
          }
          if (*lo <= c && c <= hi) in_class = true;
        }
        if (in_class == negated) failed = true;
        break;
      }
      case '?':
        chunk.remove_prefix(1);
        if (!failed) {
          if (s[0] == '/') failed = true;
          s.remove_prefix(DecodeRune(s).size);
        }
        break;
      case '\\':
        chunk.remove_prefix(1);
        if (chunk.empty()) return kMalformed;
        [[fallthrough]];
      default:
        if (!failed) {
          if (chunk[0] != s[0]) failed = true;
          s.remove_prefix(1);
        }
        chunk.remove_prefix(1);
        break;
    }
  }
  if (failed) return {};
  return {false, true, s};
}

// Splits the next piece off `pattern`: whether it was preceded by stars, and
// the text up to the next '*' that is neither quoted nor inside "[...]".
std::pair<bool, std::string_view> NextChunk(std::string_view& pattern) {
  bool star = false;
  while (!pattern.empty() && pattern[0] == '*') {
    pattern.remove_prefix(1);
    star = true;
  }
  bool in_class = false;
  size_t i = 0;
  for (; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      if (i + 1 < pattern.size()) ++i;  // a dangling '\' is MatchChunk's error
    } else if (c == '[') {
      in_class = true;
    } else if (c == ']') {
      in_class = false;
    } else if (c == '*' && !in_class) {
      break;
    }
  }
  std::string_view chunk = pattern.substr(0, i);
  pattern.remove_prefix(i);
  return {star, chunk};
}

bool ValidGlob(std::string_view pattern) {
  while (!pattern.empty()) {
    if (MatchChunk(NextChunk(pattern).second, {}).malformed) return false;
  }
  return true;
}

// Go's filepath.Match for a pattern that ValidGlob accepted. Each piece is
// placed at the leftmost position where it fits ('*' never skips a '/'); the
// last piece must also use up the name.
bool GlobMatch(std::string_view pattern, std::string_view name) {
  while (!pattern.empty()) {
    const auto [star, chunk] = NextChunk(pattern);
    const bool last = pattern.empty();
    if (star && chunk.empty()) return name.find('/') == std::string_view::npos;
    bool placed = false;
    for (size_t skip = 0; skip <= name.size(); ++skip) {
      if (skip > 0 && (!star || name[skip - 1] == '/')) break;
      const ChunkMatch m = MatchChunk(chunk, name.substr(skip));
      if (m.matched && (!last || m.rest.empty())) {
        name = m.rest;
        placed = true;
        break;
      }
    }
    if (!placed) return false;
  }
  return name.empty();
}

bool ComponentMatches(std::string_view pattern, std::string_view component) {
  if (pattern.find_first_of("\\[]*?") == std::string_view::npos) {
    return pattern == component;
  }
  return GlobMatch(pattern, component);
}

// ---------------------------------------------------------------------------
// Whole paths.

// Go's filepath.Clean for "/"-separated paths.
std::string CleanPath(std::string_view path) {
  const bool rooted = !path.empty() && path[0] == '/';
  std::vector<std::string_view> kept;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view part = path.substr(start, end - start);
    start = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!kept.empty() && kept.back() != "..") {
        kept.pop_back();
        continue;
      }
      if (rooted) continue;  // "/.." is "/"
    }
    kept.push_back(part);
  }
  if (kept.empty()) return rooted ? "/" : ".";
  std::string out;
  for (const std::string_view part : kept) {
    if (rooted || !out.empty()) out += '/';
    out += part;
  }
  return out;
}

// Splits at "/"; a leading empty component (absolute path) becomes "/".
template <class S>
std::vector<S> SplitPath(std::string_view path) {
  std::vector<S> parts;
  size_t start = 0;
  for (;;) {
    const size_t end = path.find('/', start);
    parts.emplace_back(path.substr(start, end == std::string_view::npos
                                              ? std::string_view::npos
                                              : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (parts[0] == S()) parts[0] = S(kRoot);
  return parts;
}

// Does the pattern match the run of components that begins at comps[start]?
// The run may stop short of the end of comps (a folder's match covers what
// is below it). This is the usual wildcard walk that, on a mismatch, lets
// only the latest "**" take one more component, with one restic quirk kept:
// restic expands the "**"s one after the other into "*" components and
// stops growing one as soon as the expanded pattern, in which every part
// after it (a later "**" too) still counts as one component, would be longer
// than the whole path. So "/**/*/**" does not match "/x". The bound only
// depends on where the "**" ends, so the walk, which reaches every "**" as
// early as possible, stays exact.
bool MatchAt(const std::vector<std::string>& parts,
             const std::vector<std::string_view>& comps, size_t start) {
  const std::ptrdiff_t total = static_cast<std::ptrdiff_t>(comps.size());
  const std::ptrdiff_t n_parts = static_cast<std::ptrdiff_t>(parts.size());
  bool can_retry = false;
  std::ptrdiff_t p = 0, c = static_cast<std::ptrdiff_t>(start);
  std::ptrdiff_t retry_p = 0, retry_c = 0, retry_limit = 0;
  for (;;) {
    if (p == n_parts) return true;
    if (parts[p] == kAnyDepth) {
      // The furthest component this "**" may end at (exclusive).
      const std::ptrdiff_t limit = total + static_cast<std::ptrdiff_t>(start) - (n_parts - p - 1);
      if (c > limit) return false;
      can_retry = true;
      retry_p = ++p;
      retry_c = c;
      retry_limit = limit;
      continue;
    }
    if (c < total && ComponentMatches(parts[p], comps[c])) {
      ++p, ++c;
      continue;
    }
    if (!can_retry || retry_c >= total || retry_c >= retry_limit) return false;
    p = retry_p;
    c = ++retry_c;
  }
}

// restic's filter.match for one pattern.
bool PatternMatches(const std::vector<std::string>& parts,
                    const std::vector<std::string_view>& comps) {
  if (parts[0] == kRoot) return MatchAt(parts, comps, 0);  // "/" == comps[0]
  // A floating pattern may start at any component but the root marker.
  for (size_t start = comps[0] == kRoot ? 1 : 0; start < comps.size(); ++start) {
    if (MatchAt(parts, comps, start)) return true;
  }
  return false;
}

// restic's filter.childMatch: could the pattern match below the folder
// `comps`? A floating pattern always could. An anchored one could if the
// folder agrees with the pattern up to its first "**" (or its end).
bool ChildCouldMatch(const std::vector<std::string>& parts,
                     const std::vector<std::string_view>& comps) {
  if (parts[0] != kRoot) return true;
  const size_t fixed = static_cast<size_t>(
      std::find(parts.begin(), parts.end(), kAnyDepth) - parts.begin());
  const size_t n = std::min(fixed, comps.size());
  for (size_t i = 0; i < n; ++i) {
    if (!ComponentMatches(parts[i], comps[i])) return false;
  }
  return true;
}

}  // namespace

Result<PathFilter> PathFilter::Compile(const std::vector<std::string>& patterns) {
  PathFilter filter;
  std::vector<std::string_view> invalid;
  for (const std::string& original : patterns) {
    if (original.empty()) continue;  // restic ignores empty patterns
    std::string_view body = original;
    const bool negated = body[0] == '!';
    if (negated) body.remove_prefix(1);
    const std::string cleaned = CleanPath(body);
    std::vector<std::string> parts = SplitPath<std::string>(cleaned);
    // "/" splits into {"/", ""}; restic reads that empty component as "**".
    if (parts.size() == 2 && parts[0] == kRoot && parts[1].empty()) {
      parts[1] = kAnyDepth;
    }
    const bool valid = std::all_of(parts.begin(), parts.end(), [](const std::string& part) {
      return part == kRoot || part == kAnyDepth || ValidGlob(part);
    });
    if (!valid) {
      invalid.push_back(original);
      continue;
    }
    filter.patterns_.push_back(std::move(parts));
    filter.negated_.push_back(negated);
    filter.any_negated_ = filter.any_negated_ || negated;
  }
  if (!invalid.empty()) {
    std::string message = invalid.size() == 1 ? "invalid pattern " : "invalid patterns ";
    for (size_t i = 0; i < invalid.size(); ++i) {
      if (i > 0) message += ", ";
      message += '"';
      message += invalid[i];
      message += '"';
    }
    message += ": syntax error in pattern";
    return Invalid(std::move(message));
  }
  return filter;
}

namespace {

}  // namespace

Result<PathFilter> PathFilter::Compile(const std::vector<std::string>& patterns,
                                       const std::vector<std::string>& ignoring_case) {
  STASH_ASSIGN_OR_RETURN(PathFilter filter, Compile(patterns));
  std::vector<std::string> lowered;
  for (const auto& p : ignoring_case) lowered.push_back(AsciiLower(p));
  STASH_ASSIGN_OR_RETURN(PathFilter other, Compile(lowered));
  if (!other.Empty()) filter.ignoring_case_ = std::make_shared<const PathFilter>(std::move(other));
  return filter;
}

bool PathFilter::Match(std::string_view path) const {
  return MatchOwn(path) || (ignoring_case_ && ignoring_case_->MatchOwn(AsciiLower(path)));
}

bool PathFilter::ChildMayMatch(std::string_view path) const {
  return ChildMayMatchOwn(path) ||
         (ignoring_case_ && ignoring_case_->ChildMayMatchOwn(AsciiLower(path)));
}

bool PathFilter::MatchOwn(std::string_view path) const {
  if (patterns_.empty() || path.empty()) return false;
  const auto comps = SplitPath<std::string_view>(path);
  bool matched = false;
  for (size_t i = 0; i < patterns_.size(); ++i) {
    if (negated_[i]) {
      if (matched && PatternMatches(patterns_[i], comps)) matched = false;
    } else if (!matched) {
      matched = PatternMatches(patterns_[i], comps);
      if (matched && !any_negated_) return true;
    }
  }
  return matched;
}

Result<bool> FilepathMatch(std::string_view pattern, std::string_view name) {
  if (!ValidGlob(pattern)) return Invalid("syntax error in pattern");
  return GlobMatch(pattern, name);
}

bool PathFilter::ChildMayMatchOwn(std::string_view path) const {
  if (patterns_.empty() || path.empty()) return false;
  const auto comps = SplitPath<std::string_view>(path);
  // restic's list(): a negated pattern that matches the folder itself rules
  // out its children, even where a later pattern could match them again.
  bool may = false;
  for (size_t i = 0; i < patterns_.size(); ++i) {
    if (negated_[i]) {
      if (may && PatternMatches(patterns_[i], comps)) may = false;
    } else if (!may) {
      may = ChildCouldMatch(patterns_[i], comps);
      if (may && !any_negated_) return true;
    }
  }
  return may;
}

}  // namespace stash
