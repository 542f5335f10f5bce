// Lexical path handling with Go's path/filepath rules, which decide how
// restic names things in trees and snapshots.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace stash {

// filepath.Clean: collapse "//", "." and "x/.."; "" becomes ".".
std::string CleanPath(std::string_view path);

// filepath.Abs: joins relative paths to the working folder, then cleans.
std::string AbsolutePath(std::string_view path);

std::string JoinPath(std::string_view dir, std::string_view name);

// The components of a cleaned path, without "/" and without the leading
// ".." of a relative path ("../src/a" gives {"src", "a"}): restic's
// pathComponents with includeRelative = false.
std::vector<std::string> PathComponents(std::string_view path);

// The folder that holds the first component: "/" for absolute paths, "."
// or "../.." (the leading ".." parts) for relative ones.
std::string RootDirectory(std::string_view path);

}  // namespace stash
