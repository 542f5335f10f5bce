#include "crypto/kdf.h"

#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace stash {
namespace {

constexpr uint64_t kMaxN = uint64_t{1} << 24;
// Key files come from the repository, which may be hostile: cap what a
// single password attempt may allocate.
constexpr uint64_t kMaxMemory = uint64_t{4} << 30;
constexpr size_t kMaxOutput = size_t{1} << 20;

// Returns false if libsodium could not initialise; scrypt picks its SIMD
// implementation during sodium_init.
bool EnsureSodium() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

// libsodium declares its pointer arguments nonnull, but empty views may
// carry nullptr; point those at a harmless byte instead.
const uint8_t* NonNull(const uint8_t* p) {
  static const uint8_t kEmpty = 0;
  return p != nullptr ? p : &kEmpty;
}

std::string Params(const ScryptParams& p) {
  return "N=" + std::to_string(p.n) + " r=" + std::to_string(p.r) +
         " p=" + std::to_string(p.p);
}

}  // namespace

Status ValidateScryptParams(const ScryptParams& params) {
  const uint64_t n = params.n, r = params.r, p = params.p;
  if (n <= 1 || (n & (n - 1)) != 0) {
    return Invalid("scrypt: N must be a power of two greater than 1 (" +
                   Params(params) + ")");
  }
  if (n > kMaxN) {
    return Invalid("scrypt: N larger than 2^24 (" + Params(params) + ")");
  }
  if (r < 1 || p < 1) {
    return Invalid("scrypt: r and p must be at least 1 (" + Params(params) +
                   ")");
  }
  // r and p are 32 bit, so the product cannot overflow 64 bits.
  if (r * p >= (uint64_t{1} << 30)) {
    return Invalid("scrypt: r*p must be below 2^30 (" + Params(params) + ")");
  }
  // scrypt needs 128*N*r bytes for V plus 128*r*p for B; with the bounds
  // above both products stay far below 2^64.
  const uint64_t memory = 128 * n * r + 128 * r * p;
  if (memory > kMaxMemory) {
    return Invalid("scrypt: parameters need " +
                   std::to_string(memory >> 20) +
                   " MiB, more than the 4096 MiB limit (" + Params(params) +
                   ")");
  }
  return Status::Ok();
}

Result<Bytes> Scrypt(std::string_view password, ByteView salt,
                     const ScryptParams& params, size_t length) {
  STASH_RETURN_IF_ERROR(ValidateScryptParams(params));
  if (length == 0 || length > kMaxOutput) {
    return Invalid("scrypt: output length " + std::to_string(length) +
                   " out of range");
  }
  if (!EnsureSodium()) return Invalid("scrypt: libsodium failed to initialise");
  Bytes out(length);
  const ByteView pw = AsBytes(password);
  errno = 0;
  if (crypto_pwhash_scryptsalsa208sha256_ll(
          NonNull(pw.data()), pw.size(), NonNull(salt.data()), salt.size(),
          params.n, params.r, params.p, out.data(), out.size()) != 0) {
    // Parameters were validated, so this is almost surely allocation.
    const int err = errno;
    return Invalid("scrypt failed (" + Params(params) + "): " +
                   (err != 0 ? std::strerror(err) : "unknown error"));
  }
  return out;
}

Result<CryptoKey> DeriveUserKey(std::string_view password, ByteView salt,
                                const ScryptParams& params) {
  STASH_ASSIGN_OR_RETURN(Bytes raw, Scrypt(password, salt, params, 64));
  CryptoKey key;
  auto it = raw.begin();
  std::copy_n(it, 32, key.encrypt.begin());
  std::copy_n(it + 32, 16, key.mac_k.begin());
  std::copy_n(it + 48, 16, key.mac_r.begin());
  // r is clamped again on every use; clamping here too keeps the stored
  // value identical to what restic holds in memory.
  static constexpr uint8_t kMask[16] = {0xff, 0xff, 0xff, 0x0f, 0xfc, 0xff,
                                        0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f,
                                        0xfc, 0xff, 0xff, 0x0f};
  for (size_t i = 0; i < 16; ++i) key.mac_r[i] &= kMask[i];
  sodium_memzero(raw.data(), raw.size());
  return key;
}

}  // namespace stash
