// A fixed repository key for fuzz targets that seal their input first, so
// that mutants reach the code behind the MAC check.
#pragma once

#include <cstdint>

#include "crypto/crypto_key.h"

inline stash::CryptoKey FuzzKey(uint8_t seed) {
  stash::CryptoKey key;
  key.encrypt.fill(seed);
  key.mac_k.fill(static_cast<uint8_t>(seed + 1));
  key.mac_r.fill(static_cast<uint8_t>(seed + 2));
  return key;
}
