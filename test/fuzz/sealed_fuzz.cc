// Opening sealed bytes (AES-256-CTR + Poly1305-AES), in place and into a
// second buffer, which must agree: the restore decrypts blobs in place.
//   input: mode byte || bytes
//   mode even: the bytes are sealed input from storage; Open and
//     OpenInPlace both fail (OpenInPlace leaving them as they were) or
//     both give the same plaintext.
//   mode odd: the bytes are plaintext: sealed, they open in place to
//     themselves; with one byte of the sealed form flipped (chosen by the
//     mode byte) both refuse them.
#include <algorithm>

#include "crypto/crypto_key.h"
#include "fuzz_key.h"
#include "fuzz_util.h"

namespace {

void FromStorage(const stash::CryptoKey& key, const stash::Bytes& sealed) {
  auto copied = stash::Open(key, sealed);
  stash::Bytes in_place = sealed;
  auto opened = stash::OpenInPlace(key, in_place);
  FUZZ_CHECK(copied.ok() == opened.ok());
  if (!opened.ok()) {
    FUZZ_CHECK(in_place == sealed);
    return;
  }
  FUZZ_CHECK(std::equal(opened->begin(), opened->end(), copied->begin(), copied->end()));
}

void RoundTrip(const stash::CryptoKey& key, const stash::Bytes& plain, uint8_t mode) {
  stash::Bytes sealed = stash::Seal(key, plain);
  stash::Bytes flipped = sealed;
  auto opened = stash::OpenInPlace(key, sealed);
  FUZZ_CHECK(opened.ok());
  FUZZ_CHECK(std::equal(opened->begin(), opened->end(), plain.begin(), plain.end()));
  flipped[(mode * 131u) % flipped.size()] ^= 0x20;
  stash::Bytes before = flipped;
  FUZZ_CHECK(!stash::Open(key, flipped).ok());
  FUZZ_CHECK(!stash::OpenInPlace(key, flipped).ok());
  FUZZ_CHECK(flipped == before);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const stash::CryptoKey key = FuzzKey(4);
  if (size < 1) return 0;
  stash::Bytes bytes(data + 1, data + size);
  if (data[0] % 2 == 0) {
    FromStorage(key, bytes);
  } else {
    RoundTrip(key, bytes, data[0]);
  }
  return 0;
}
