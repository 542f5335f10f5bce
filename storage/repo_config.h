// The repository config file: format version, id and chunker polynomial.
#pragma once

#include <cstdint>
#include <string>

#include "base/bytes.h"
#include "base/result.h"

namespace stash {

inline constexpr int kMinRepoVersion = 1;
inline constexpr int kMaxRepoVersion = 2;

struct RepoConfig {
  int version = 2;
  std::string id;                   // 64 hex characters
  uint64_t chunker_polynomial = 0;  // stored as lower-case hex
};

// Compact JSON as restic writes it (never compressed, even in v2).
std::string EncodeRepoConfig(const RepoConfig& config);

// Rejects versions other than 1 and 2 with kUnsupported.
Result<RepoConfig> DecodeRepoConfig(ByteView json);

}  // namespace stash
