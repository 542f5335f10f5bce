// Small string helpers that every layer needs and the standard library lacks.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace stash {

// `s` with A-Z made a-z and every other byte (UTF-8 too) as it was: what
// HTTP header names, URL schemes, Kubernetes kinds and restic's
// case-insensitive patterns compare in, whatever the C locale says.
std::string AsciiLower(std::string_view s);

// The parts with `sep` between each two: {"a", "", "b"} and "," give "a,,b".
std::string JoinStrings(const std::vector<std::string>& parts, std::string_view sep);

}  // namespace stash
