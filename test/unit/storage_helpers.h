// Helpers the storage unit tests share: a repository that opens fast and
// bytes that differ from seed to seed.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.h"
#include "storage/repository.h"

namespace stash::testing {

// Cheap scrypt so tests stay fast; real repositories use N = 2^15.
inline InitOptions FastInit(int version) {
  InitOptions o;
  o.version = version;
  o.chunker_polynomial = 0x3DA3358B4DC173;
  o.kdf = {1024, 8, 1};
  o.username = "tester";
  o.hostname = "host";
  return o;
}

inline Bytes Pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 7 + (i >> 9));
  return b;
}

}  // namespace stash::testing
