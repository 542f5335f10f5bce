// Cryptographically secure random bytes (nonces, salts, keys, repository ids).
#pragma once

#include "base/bytes.h"

namespace stash {

void RandomBytes(std::span<uint8_t> out);
Bytes RandomBytes(size_t n);

// 16 random bytes for a message's nonce, from a per-thread block of the
// same generator's output: a system call per sealed blob cost more than
// sealing a small one. A forked child finds the block wiped (the kernel's
// MADV_WIPEONFORK) and draws its own, so it never repeats the nonces its
// parent will use; where the kernel cannot wipe, every nonce is drawn
// directly.
void RandomNonceBytes(std::span<uint8_t, 16> out);

}  // namespace stash
