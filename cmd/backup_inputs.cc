#include "cmd/backup_inputs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <iostream>

#include "cmd/common.h"
#include "engine/backup_lists.h"
#include "engine/go_errors.h"

namespace stash::cli {
namespace {

InputError Plain(std::string message) { return {std::move(message), false}; }

// A whole file ("-": standard input), or Go's error for it.
InputResult<std::string> ReadWhole(const std::string& path) {
  int fd = path == "-" ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Plain(GoPathError("open", path, errno));
  std::string data;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      if (fd != STDIN_FILENO) ::close(fd);
      return Plain(GoPathError("read", path, err));
    }
    data.append(buf, static_cast<size_t>(n));
  }
  if (fd != STDIN_FILENO) ::close(fd);
  return data;
}

// --files-from: each line is a glob pattern.
std::optional<InputError> AddFilesFrom(const std::string& file, std::vector<std::string>& out) {
  auto data = ReadWhole(file);
  if (auto* e = std::get_if<InputError>(&data)) return *e;
  for (const auto& line : FilesFromPatterns(DecodeText(std::get<std::string>(data)))) {
    auto matches = Glob(line);
    if (!matches.ok()) return Plain("pattern: " + line + ": " + matches.error().message());
    if (matches->empty()) std::cerr << "pattern \"" << line << "\" does not match any files, skipping\n";
    out.insert(out.end(), matches->begin(), matches->end());
  }
  return std::nullopt;
}

std::optional<InputError> AddListed(const std::string& file, bool raw, std::vector<std::string>& out) {
  auto data = ReadWhole(file);
  if (auto* e = std::get_if<InputError>(&data)) return *e;
  const std::string& text = std::get<std::string>(data);
  if (!raw) {
    for (auto& name : FilesFromVerbatim(DecodeText(text))) out.push_back(std::move(name));
    return std::nullopt;
  }
  auto names = FilesFromRaw(text);
  if (!names.ok()) return InputError{names.error().message()};
  out.insert(out.end(), names->begin(), names->end());
  return std::nullopt;
}

// Patterns of --exclude-file or --iexclude-file, checked under that name.
std::optional<InputError> AddPatternFiles(const Args& args, const std::string& flag,
                                          std::vector<std::string>& out) {
  std::vector<std::string> patterns;
  for (const auto& file : args.GetAll(flag)) {
    auto data = ReadWhole(file);
    if (auto* e = std::get_if<InputError>(&data)) return *e;
    for (auto& p : ExcludeFilePatterns(DecodeText(std::get<std::string>(data)), Env)) {
      patterns.push_back(std::move(p));
    }
  }
  if (Status valid = ValidatePatterns("--" + flag, patterns); !valid.ok()) {
    return InputError{valid.error().message()};
  }
  out.insert(out.end(), patterns.begin(), patterns.end());
  return std::nullopt;
}

// Exactly `n` digits (or, if not `fixed`, one or two) off the front of `s`.
std::optional<int> TakeNumber(std::string_view& s, size_t n, bool fixed = true) {
  size_t len = 0;
  while (len < n && len < s.size() && s[len] >= '0' && s[len] <= '9') ++len;
  if (len == 0 || (fixed && len != n)) return std::nullopt;
  int v = std::atoi(std::string(s.substr(0, len)).c_str());
  s.remove_prefix(len);
  return v;
}

bool TakeChar(std::string_view& s, char c) {
  if (s.empty() || s[0] != c) return false;
  s.remove_prefix(1);
  return true;
}

// Go's time.ParseInLocation("2006-01-02 15:04:05", text, time.Local),
// fractional seconds allowed as Go allows them.
std::optional<Timestamp> ParseLocalTime(std::string_view s) {
  struct tm tm = {};
  auto year = TakeNumber(s, 4);
  if (!year || !TakeChar(s, '-')) return std::nullopt;
  auto mon = TakeNumber(s, 2);
  if (!mon || !TakeChar(s, '-')) return std::nullopt;
  auto day = TakeNumber(s, 2);
  if (!day || !TakeChar(s, ' ')) return std::nullopt;
  auto hour = TakeNumber(s, 2, false);
  if (!hour || !TakeChar(s, ':')) return std::nullopt;
  auto min = TakeNumber(s, 2);
  if (!min || !TakeChar(s, ':')) return std::nullopt;
  auto sec = TakeNumber(s, 2);
  if (!sec) return std::nullopt;
  uint32_t nanos = 0;
  if (TakeChar(s, '.') || TakeChar(s, ',')) {
    size_t digits = 0;
    for (; !s.empty() && s[0] >= '0' && s[0] <= '9'; s.remove_prefix(1), ++digits) {
      if (digits < 9) nanos = nanos * 10 + static_cast<uint32_t>(s[0] - '0');
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 9; ++digits) nanos *= 10;
  }
  if (!s.empty() || *mon < 1 || *mon > 12 || *day < 1 || *day > 31 || *hour > 23 || *min > 59 ||
      *sec > 59) {
    return std::nullopt;
  }
  tm.tm_year = *year - 1900, tm.tm_mon = *mon - 1, tm.tm_mday = *day;
  tm.tm_hour = *hour, tm.tm_min = *min, tm.tm_sec = *sec, tm.tm_isdst = -1;
  struct tm check = tm;
  time_t t = std::mktime(&tm);
  if (tm.tm_mday != check.tm_mday) return std::nullopt;  // e.g. February 30
  return Timestamp::Local(static_cast<int64_t>(t), nanos);
}

}  // namespace

std::optional<InputError> CheckBackupFlags(const Args& args, bool password_from_stdin) {
  const char* lists[] = {"files-from", "files-from-verbatim", "files-from-raw"};
  if (password_from_stdin) {
    for (const char* flag : lists) {
      for (const auto& f : args.GetAll(flag)) {
        if (f == "-") {
          return InputError{"unable to read password from stdin when data is to be read from stdin, "
                            "use --password-file or $RESTIC_PASSWORD"};
        }
      }
    }
  }
  // --stdin-from-command (restic 0.17) reads a command's output as --stdin
  // reads ours; its arguments are the command.
  const bool from_command = args.Has("stdin-from-command");
  if (!args.Has("stdin") && !from_command) return std::nullopt;
  for (const char* flag : lists) {
    if (args.Has(flag)) return InputError{std::string("--stdin and --") + flag + " cannot be used together"};
  }
  if (from_command && args.positional().empty()) {
    return InputError{"--stdin-from-command requires the command to run, after --"};
  }
  if (!from_command && !args.positional().empty()) {
    return InputError{"--stdin was specified and files/dirs were listed as arguments"};
  }
  return std::nullopt;
}

InputResult<std::vector<std::string>> CollectTargets(const Args& args) {
  std::vector<std::string> targets;
  for (const auto& f : args.GetAll("files-from")) {
    if (auto e = AddFilesFrom(f, targets)) return *e;
  }
  for (const auto& f : args.GetAll("files-from-verbatim")) {
    if (auto e = AddListed(f, false, targets)) return *e;
  }
  for (const auto& f : args.GetAll("files-from-raw")) {
    if (auto e = AddListed(f, true, targets)) return *e;
  }
  targets.insert(targets.end(), args.positional().begin(), args.positional().end());
  if (targets.empty()) return InputError{"nothing to backup, please specify target files/dirs"};
  std::vector<std::string> existing;
  for (const auto& t : targets) {
    struct stat st;
    if (::lstat(t.c_str(), &st) != 0 && errno == ENOENT) {
      std::cerr << t << " does not exist, skipping\n";
      continue;
    }
    existing.push_back(t);
  }
  if (existing.empty()) return InputError{"all target directories/files do not exist"};
  return existing;
}

InputResult<SelectionSpec> ReadSelectionSpec(const Args& args) {
  SelectionSpec spec;
  if (auto e = AddPatternFiles(args, "exclude-file", spec.excludes)) return *e;
  if (auto e = AddPatternFiles(args, "iexclude-file", spec.iexcludes)) return *e;
  for (const char* flag : {"iexclude", "exclude"}) {
    auto patterns = args.GetAll(flag);
    if (Status valid = ValidatePatterns(std::string("--") + flag, patterns); !valid.ok()) {
      return InputError{valid.error().message()};
    }
    auto& into = std::string(flag) == "exclude" ? spec.excludes : spec.iexcludes;
    into.insert(into.begin(), patterns.begin(), patterns.end());
  }
  spec.if_present = args.GetAll("exclude-if-present");
  spec.exclude_caches = args.Has("exclude-caches");
  spec.one_file_system = args.Has("one-file-system") && !args.Has("stdin") && !args.Has("stdin-from-command");
  std::string size = args.Get("exclude-larger-than");
  if (!size.empty() && !args.Has("stdin")) {
    auto max = ParseSize(size);
    if (!max.ok()) return Plain(max.error().message());
    spec.max_size = *max;
  }
  return spec;
}

InputResult<Timestamp> ParseBackupTime(const std::string& text) {
  if (auto t = ParseLocalTime(text)) return *t;
  if (auto t = ParseRfc3339(text)) return *t;
  return InputError{"error in time option: parsing time \"" + text +
                    "\" as \"2006-01-02 15:04:05\": cannot parse \"" + text + "\" as \"2006\""};
}

std::vector<std::string> SplitTags(const std::vector<std::string>& values) {
  std::vector<std::string> tags;
  for (const auto& v : values) {
    size_t start = 0;
    while (start <= v.size()) {
      size_t comma = v.find(',', start);
      if (comma == std::string::npos) comma = v.size();
      std::string tag = v.substr(start, comma - start);
      size_t b = tag.find_first_not_of(" \t\r\n"), e = tag.find_last_not_of(" \t\r\n");
      if (b != std::string::npos) tags.push_back(tag.substr(b, e - b + 1));
      start = comma + 1;
    }
  }
  return tags;
}

}  // namespace stash::cli
