// Whole small files as text: certificates, keys, kubeconfigs, tokens.
#pragma once

#include <string>

#include "base/result.h"

namespace stash {

// kNotFound naming `path` when it cannot be read.
Result<std::string> ReadTextFile(const std::string& path);
// Writes atomically (a temporary file renamed over `path`) with `mode`
// (0600 for keys and kubeconfigs).
Status WriteTextFile(const std::string& path, const std::string& text, int mode);

}  // namespace stash
