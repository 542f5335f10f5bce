// Cryptographically secure random bytes (nonces, salts, keys, repository ids).
#pragma once

#include "base/bytes.h"

namespace stash {

void RandomBytes(std::span<uint8_t> out);
Bytes RandomBytes(size_t n);

}  // namespace stash
