// Error texts as Go prints them, so that messages about files read like
// restic's ("open /a/b: permission denied"): Go's errno strings are glibc's
// with a lower-case first letter.
#pragma once

#include <cctype>
#include <cstring>
#include <string>

namespace stash {

inline std::string GoErrnoText(int err) {
  std::string s = std::strerror(err);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

// Go's *os.PathError: "<op> <path>: <errno text>".
inline std::string GoPathError(const std::string& op, const std::string& path, int err) {
  return op + " " + path + ": " + GoErrnoText(err);
}

}  // namespace stash
