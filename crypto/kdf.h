// Password-based key derivation: scrypt, as restic key files use it.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/crypto_key.h"

namespace stash {

// The defaults are the cost of the keys stash creates: 32 MiB and about
// 80 ms on one core of the 2-core test machine. restic instead calibrates
// new keys to about half a second (N=32768, r=8 and p=3 or 4 there), which
// every later command on the repository pays again; any cost in a key file
// is read and honoured.
struct ScryptParams {
  uint64_t n = 32768;  // CPU/memory cost, a power of two > 1
  uint32_t r = 8;
  uint32_t p = 1;
};

// Checks the parameters are ones we will spend memory and time on.
Status ValidateScryptParams(const ScryptParams& params);

// Raw scrypt output of `length` bytes (exposed for test vectors).
Result<Bytes> Scrypt(std::string_view password, ByteView salt,
                     const ScryptParams& params, size_t length);

// scrypt(password, salt) with dkLen 64, split into encrypt(32) | mac.k(16) |
// mac.r(16), as restic derives the user key from a password.
Result<CryptoKey> DeriveUserKey(std::string_view password, ByteView salt,
                                const ScryptParams& params);

}  // namespace stash
