#include "crypto/random.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

namespace stash {
namespace {

// sodium_init seeds the RNG and selects the fastest implementations; a
// function-local static runs it exactly once, even with many threads.
void EnsureSodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) {
    std::fputs("stash: libsodium failed to initialise\n", stderr);
    std::abort();
  }
}

}  // namespace

void RandomBytes(std::span<uint8_t> out) {
  EnsureSodium();
  // randombytes_buf is declared nonnull; an empty span may carry nullptr.
  if (out.empty()) return;
  randombytes_buf(out.data(), out.size());
}

Bytes RandomBytes(size_t n) {
  Bytes out(n);
  RandomBytes(std::span<uint8_t>(out));
  return out;
}

}  // namespace stash
