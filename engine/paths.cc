#include "engine/paths.h"

#include <unistd.h>

namespace stash {

std::string CleanPath(std::string_view path) {
  if (path.empty()) return ".";
  bool rooted = path[0] == '/';
  std::vector<std::string_view> parts;
  size_t dotdots = 0;  // leading ".." parts of a relative path, kept
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(pos, end - pos);
    pos = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.size() > dotdots) {
        parts.pop_back();
      } else if (!rooted) {
        parts.push_back(part);
        ++dotdots;
      }
      continue;
    }
    parts.push_back(part);
  }
  std::string out = rooted ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  return out.empty() ? "." : out;
}

std::string AbsolutePath(std::string_view path) {
  if (!path.empty() && path[0] == '/') return CleanPath(path);
  std::string cwd;
  if (char* c = ::getcwd(nullptr, 0)) {
    cwd = c;
    free(c);
  }
  return CleanPath(cwd + "/" + std::string(path));
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  if (dir.empty()) return CleanPath(name);
  return CleanPath(std::string(dir) + "/" + std::string(name));
}

std::vector<std::string> PathComponents(std::string_view path) {
  // Rooting a relative path first drops its leading "..", as restic does.
  std::string cleaned = CleanPath("/" + std::string(path));
  std::vector<std::string> out;
  size_t pos = 1;
  while (pos < cleaned.size()) {
    size_t end = cleaned.find('/', pos);
    if (end == std::string::npos) end = cleaned.size();
    out.emplace_back(cleaned.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

std::string RootDirectory(std::string_view path) {
  if (!path.empty() && path[0] == '/') return "/";
  std::string cleaned = CleanPath(path);
  std::string root = ".";
  size_t pos = 0;
  while (cleaned.compare(pos, 2, "..") == 0 &&
         (pos + 2 == cleaned.size() || cleaned[pos + 2] == '/')) {
    root = JoinPath(root, "..");
    pos += 3;
  }
  return root;
}

}  // namespace stash
