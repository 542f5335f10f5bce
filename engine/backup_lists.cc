#include "engine/backup_lists.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "engine/filter.h"
#include "engine/paths.h"

namespace stash {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

// strings.TrimSpace for ASCII white space.
std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

void AppendUtf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

// UTF-16 after its byte order mark; broken surrogates and an odd last
// byte become U+FFFD, as Go's decoder writes them.
std::string FromUtf16(std::string_view data, bool big_endian) {
  auto unit = [&](size_t i) -> char32_t {
    auto b0 = static_cast<unsigned char>(data[i]), b1 = static_cast<unsigned char>(data[i + 1]);
    return big_endian ? (b0 << 8 | b1) : (b1 << 8 | b0);
  };
  std::string out;
  size_t i = 0;
  for (; i + 1 < data.size(); i += 2) {
    char32_t u = unit(i);
    if (u >= 0xD800 && u < 0xDC00 && i + 3 < data.size()) {
      char32_t low = unit(i + 2);
      if (low >= 0xDC00 && low < 0xE000) {
        AppendUtf8(out, 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00));
        i += 2;
        continue;
      }
    }
    AppendUtf8(out, (u >= 0xD800 && u < 0xE000) ? 0xFFFD : u);
  }
  if (i < data.size()) AppendUtf8(out, 0xFFFD);
  return out;
}

bool IsSpecialVar(char c) {
  return std::string_view("*#$@!?-0123456789").find(c) != std::string_view::npos;
}

bool IsAlphaNum(char c) {
  return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Go's getShellName: the name after a '$' and how many bytes it used.
std::pair<std::string_view, size_t> ShellName(std::string_view s) {
  if (s[0] == '{') {
    if (s.size() > 2 && IsSpecialVar(s[1]) && s[2] == '}') return {s.substr(1, 1), 3};
    for (size_t i = 1; i < s.size(); ++i) {
      if (s[i] != '}') continue;
      if (i == 1) return {{}, 2};  // "${}": bad syntax, eaten
      return {s.substr(1, i - 1), i + 1};
    }
    return {{}, 1};  // "${" without "}": bad syntax, eaten
  }
  if (IsSpecialVar(s[0])) return {s.substr(0, 1), 1};
  size_t i = 0;
  while (i < s.size() && IsAlphaNum(s[i])) ++i;
  return {s.substr(0, i), i};
}

bool HasMeta(std::string_view p) { return p.find_first_of("*?[\\") != std::string_view::npos; }

// Go's glob(): the names in `dir` matching `pattern`, sorted, added to `out`.
Status GlobIn(const std::string& dir, const std::string& pattern, std::vector<std::string>& out) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return Status::Ok();
  DIR* d = ::opendir(dir.c_str());
  if (!d) return Status::Ok();
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    STASH_ASSIGN_OR_RETURN(bool matched, FilepathMatch(pattern, n));
    if (matched) out.push_back(JoinPath(dir, n));
  }
  return Status::Ok();
}

Result<std::vector<std::string>> GlobDepth(const std::string& pattern, int depth) {
  if (depth > 10000) return Invalid("syntax error in pattern");
  STASH_RETURN_IF_ERROR(FilepathMatch(pattern, ""));  // a malformed pattern fails even unused
  std::vector<std::string> out;
  if (!HasMeta(pattern)) {
    struct stat st;
    if (::lstat(pattern.c_str(), &st) == 0) out.push_back(pattern);
    return out;
  }
  size_t slash = pattern.rfind('/');
  std::string dir = slash == std::string::npos ? "" : pattern.substr(0, slash + 1);
  std::string file = slash == std::string::npos ? pattern : pattern.substr(slash + 1);
  // Go's cleanGlobPath: "" is ".", "/" stays, else the trailing "/" goes.
  dir = dir.empty() ? "." : dir == "/" ? dir : dir.substr(0, dir.size() - 1);
  if (!HasMeta(dir)) {
    STASH_RETURN_IF_ERROR(GlobIn(dir, file, out));
    return out;
  }
  if (dir == pattern) return Invalid("syntax error in pattern");
  STASH_ASSIGN_OR_RETURN(auto dirs, GlobDepth(dir, depth + 1));
  for (const auto& d : dirs) STASH_RETURN_IF_ERROR(GlobIn(d, file, out));
  return out;
}

}  // namespace

std::string DecodeText(std::string_view data) {
  if (data.substr(0, 3) == "\xEF\xBB\xBF") return std::string(data.substr(3));
  if (data.substr(0, 2) == "\xFE\xFF") return FromUtf16(data.substr(2), true);
  if (data.substr(0, 2) == "\xFF\xFE") return FromUtf16(data.substr(2), false);
  return std::string(data);
}

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

std::vector<std::string> FilesFromPatterns(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& line : SplitLines(text)) {
    std::string_view t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    out.emplace_back(t);
  }
  return out;
}

std::vector<std::string> FilesFromVerbatim(std::string_view text) {
  std::vector<std::string> out;
  for (auto& line : SplitLines(text)) {
    if (!line.empty()) out.push_back(std::move(line));
  }
  return out;
}

Result<std::vector<std::string>> FilesFromRaw(std::string_view data) {
  std::vector<std::string> out;
  while (!data.empty()) {
    size_t nul = data.find('\0');
    if (nul == std::string_view::npos) return Invalid("--files-from-raw: trailing zero byte missing");
    if (nul == 0) return Invalid("--files-from-raw: empty filename in listing");
    out.emplace_back(data.substr(0, nul));
    data.remove_prefix(nul + 1);
  }
  return out;
}

std::vector<std::string> ExcludeFilePatterns(std::string_view text, const EnvLookup& env) {
  // "$$" stands for a literal dollar sign.
  EnvLookup lookup = [&env](const std::string& name) { return name == "$" ? name : env(name); };
  std::vector<std::string> out;
  for (const auto& line : SplitLines(text)) {
    std::string_view t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    out.push_back(ExpandVariables(t, lookup));
  }
  return out;
}

std::string ExpandVariables(std::string_view s, const EnvLookup& lookup) {
  std::string out;
  size_t i = 0;
  for (size_t j = 0; j < s.size(); ++j) {
    if (s[j] != '$' || j + 1 >= s.size()) continue;
    out += s.substr(i, j - i);
    auto [name, width] = ShellName(s.substr(j + 1));
    if (name.empty() && width == 0) {
      out += '$';  // not followed by a name: kept
    } else if (!name.empty()) {
      out += lookup(std::string(name));
    }
    j += width;
    i = j + 1;
  }
  out += s.substr(std::min(i, s.size()));
  return out;
}

Result<int64_t> ParseSize(std::string_view s) {
  if (s.empty()) return Invalid("expected size, got empty string");
  std::string_view digits = s.substr(0, s.size() - 1);
  int64_t unit = 1;
  switch (s.back()) {
    case 'b': case 'B': break;
    case 'k': case 'K': unit = int64_t{1} << 10; break;
    case 'm': case 'M': unit = int64_t{1} << 20; break;
    case 'g': case 'G': unit = int64_t{1} << 30; break;
    case 't': case 'T': unit = int64_t{1} << 40; break;
    default: digits = s;
  }
  auto syntax = [&](const char* why) {
    return Invalid("strconv.ParseInt: parsing \"" + std::string(digits) + "\": " + why);
  };
  std::string_view d = digits;
  bool negative = !d.empty() && d[0] == '-';
  if (!d.empty() && (d[0] == '-' || d[0] == '+')) d.remove_prefix(1);
  if (d.empty()) return syntax("invalid syntax");
  uint64_t value = 0;
  for (char c : d) {
    if (c < '0' || c > '9') return syntax("invalid syntax");
    if (value > (uint64_t{1} << 63) / 10) return syntax("value out of range");
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > (uint64_t{1} << 63) - (negative ? 0 : 1)) return syntax("value out of range");
  int64_t v = negative ? static_cast<int64_t>(0 - value) : static_cast<int64_t>(value);
  // Go multiplies without checking; wrap the same way instead of overflowing.
  return static_cast<int64_t>(static_cast<uint64_t>(v) * static_cast<uint64_t>(unit));
}

Result<std::vector<std::string>> Glob(const std::string& pattern) { return GlobDepth(pattern, 0); }

}  // namespace stash
