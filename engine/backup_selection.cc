#include "engine/backup_selection.h"

#include <fcntl.h>
#include <locale.h>
#include <unistd.h>
#include <wctype.h>

#include <cerrno>

#include "engine/go_errors.h"
#include "engine/paths.h"

namespace stash {
namespace {

// Go's filepath.Dir for a clean absolute path.
std::string Dir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

// One code point off the front of `s` (at least one byte); U+FFFD for a
// byte that does not start a valid sequence, as Go decodes.
char32_t TakeRune(std::string_view& s) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char b0 = b(0);
  size_t n = b0 < 0x80 ? 1 : b0 >= 0xC2 && b0 <= 0xDF ? 2 : b0 >= 0xE0 && b0 <= 0xEF ? 3
                              : b0 >= 0xF0 && b0 <= 0xF4 ? 4 : 0;
  char32_t c = n == 1 ? b0 : n == 2 ? (b0 & 0x1F) : n == 3 ? (b0 & 0x0F) : (b0 & 0x07);
  bool ok = n != 0 && s.size() >= n;
  for (size_t i = 1; ok && i < n; ++i) {
    ok = (b(i) & 0xC0) == 0x80;
    c = (c << 6) | (b(i) & 0x3F);
  }
  // No overlong forms, surrogates or code points past U+10FFFF.
  if (ok && ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
             (c >= 0xD800 && c < 0xE000))) {
    ok = false;
  }
  s.remove_prefix(ok ? n : 1);
  return ok ? c : 0xFFFD;
}

void PutRune(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
    return;
  }
  int n = c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  static const unsigned char kLead[] = {0, 0, 0xC0, 0xE0, 0xF0};
  out += static_cast<char>(kLead[n] | (c >> (6 * (n - 1))));
  for (int i = n - 2; i >= 0; --i) out += static_cast<char>(0x80 | ((c >> (6 * i)) & 0x3F));
}

// Unicode case mapping comes with a UTF-8 locale; C.UTF-8 is built into glibc.
locale_t Utf8Locale() {
  static locale_t loc = ::newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  return loc;
}

Result<PathFilter> CompileLowered(const std::vector<std::string>& patterns) {
  std::vector<std::string> lowered;
  for (const auto& p : patterns) lowered.push_back(LowerUtf8(p));
  return PathFilter::Compile(lowered);
}

}  // namespace

Status ValidatePatterns(const std::string& flag, const std::vector<std::string>& patterns) {
  std::string bad;
  for (const auto& p : patterns) {
    if (!PathFilter::Compile({p}).ok()) bad += "\n" + p;
  }
  if (bad.empty()) return Status::Ok();
  return Invalid(flag + ": invalid pattern(s) provided:" + bad);
}

std::string LowerUtf8(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  std::string_view rest = s;
  while (!rest.empty()) {
    char32_t c = TakeRune(rest);
    if (c < 0x80) {
      PutRune(out, (c >= 'A' && c <= 'Z') ? c + 32 : c);
    } else {
      locale_t loc = Utf8Locale();
      PutRune(out, loc ? static_cast<char32_t>(::towlower_l(static_cast<wint_t>(c), loc)) : c);
    }
  }
  return out;
}

Result<std::shared_ptr<BackupSelection>> BackupSelection::Make(const SelectionSpec& spec,
                                                               const std::vector<std::string>& targets) {
  auto sel = std::shared_ptr<BackupSelection>(new BackupSelection());
  STASH_ASSIGN_OR_RETURN(sel->excludes_, PathFilter::Compile(spec.excludes));
  STASH_ASSIGN_OR_RETURN(sel->iexcludes_, CompileLowered(spec.iexcludes));
  std::vector<std::string> specs = spec.if_present;
  if (spec.exclude_caches) specs.push_back(kCacheDirTag);
  for (const auto& s : specs) {
    if (s.empty()) return Invalid("name for exclusion tagfile is empty");
    size_t colon = s.find(':');
    if (colon == 0) return Invalid("no name for exclusion tagfile provided");
    if (colon == std::string::npos) {
      sel->tags_.push_back({s, ""});
    } else {
      sel->tags_.push_back({s.substr(0, colon), s.substr(colon + 1)});
    }
  }
  sel->max_size_ = spec.max_size;
  sel->one_file_system_ = spec.one_file_system;
  if (spec.one_file_system) {
    for (const auto& t : targets) {
      std::string abs = AbsolutePath(t);
      struct stat st;
      if (::lstat(abs.c_str(), &st) != 0) return IOError(GoPathError("lstat", abs, errno));
      sel->devices_[abs] = st.st_dev;
    }
  }
  return sel;
}

bool BackupSelection::SelectByName(const std::string& path) {
  if (excludes_.Match(path)) return false;
  if (!iexcludes_.Empty() && iexcludes_.Match(LowerUtf8(path))) return false;
  for (const auto& tag : tags_) {
    if (ExcludedByTag(tag, path)) return false;
  }
  return true;
}

bool BackupSelection::ExcludedByTag(const TagFile& tag, const std::string& path) {
  size_t slash = path.rfind('/');
  std::string dir = path.substr(0, slash + 1), base = path.substr(slash + 1);
  if (base == tag.name) return false;  // the tag file itself stays
  size_t index = static_cast<size_t>(&tag - tags_.data());
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, fresh] = tagged_.try_emplace({index, dir}, false);
  if (fresh) it->second = FolderHasTag(dir, tag);
  return it->second;
}

// restic's isDirExcludedByFile; called with mu_ held.
bool BackupSelection::FolderHasTag(const std::string& dir, const TagFile& tag) {
  std::string file = JoinPath(dir, tag.name);
  struct stat st;
  if (::lstat(file.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      notices_.push_back("could not access exclusion tagfile: " + GoPathError("lstat", file, errno));
    }
    return false;
  }
  if (tag.header.empty()) return true;
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    notices_.push_back("could not open exclusion tagfile: " + GoPathError("open", file, errno));
    return false;
  }
  std::string head(tag.header.size(), '\0');
  size_t got = 0;
  ssize_t n = 0;
  while (got < head.size() && (n = ::read(fd, head.data() + got, head.size() - got)) > 0) got += n;
  int err = errno;
  ::close(fd);
  std::string quoted = "\"" + file + "\"";
  if (n < 0) {
    notices_.push_back("could not read signature from exclusion tagfile " + quoted + ": " +
                       GoPathError("read", file, err));
  } else if (got == 0) {
    notices_.push_back("invalid (too short) signature in exclusion tagfile " + quoted);
  } else if (got < head.size()) {
    notices_.push_back("could not read signature from exclusion tagfile " + quoted + ": unexpected EOF");
  } else if (head != tag.header) {
    notices_.push_back("invalid signature in exclusion tagfile " + quoted);
  } else {
    return true;
  }
  return false;
}

bool BackupSelection::Select(const std::string& path, const struct stat& st) const {
  bool is_dir = S_ISDIR(st.st_mode);
  if (max_size_ && !is_dir && static_cast<int64_t>(st.st_size) > *max_size_) return false;
  if (!one_file_system_ || OnAllowedDevice(path, st.st_dev)) return true;
  if (!is_dir) return false;
  // A mount point stays if the folder holding it is on an allowed device.
  std::string parent = Dir(path);
  struct stat pst;
  if (::lstat(parent.c_str(), &pst) != 0) return false;
  return OnAllowedDevice(parent, pst.st_dev);
}

// restic's DeviceMap.IsAllowed: the nearest target at or above `path`
// decides which device is allowed.
bool BackupSelection::OnAllowedDevice(const std::string& path, uint64_t dev) const {
  for (std::string dir = path;; dir = Dir(dir)) {
    auto it = devices_.find(dir);
    if (it != devices_.end()) return it->second == dev;
    if (dir == "/") return false;
  }
}

std::vector<std::string> BackupSelection::TakeNotices() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  out.swap(notices_);
  return out;
}

}  // namespace stash
