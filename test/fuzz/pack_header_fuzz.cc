// ParsePackHeader's entry parser. The entries are only read after the MAC
// check, so the input is sealed with a fixed key first; otherwise nearly
// every mutant would stop at "ciphertext verification failed".
//   input: uint32le size of the pack's blob data || plaintext header entries
#include <algorithm>

#include "crypto/crypto_key.h"
#include "fuzz_key.h"
#include "fuzz_util.h"
#include "storage/pack.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const stash::CryptoKey key = FuzzKey(1);
  if (size < 4) return 0;
  uint64_t data_size = FuzzU32(data);
  stash::Bytes tail = stash::Seal(key, {data + 4, size - 4});
  uint32_t hlen = static_cast<uint32_t>(tail.size());
  for (int i = 0; i < 4; ++i) tail.push_back(uint8_t(hlen >> (8 * i)));
  uint64_t pack_size = data_size + tail.size();
  auto blobs = stash::ParsePackHeader(key, tail, pack_size);
  if (!blobs.ok()) return 0;
  // Every blob the parser accepts lies inside the data part of the pack.
  FUZZ_CHECK(!blobs->empty());
  for (const auto& b : *blobs) {
    FUZZ_CHECK(b.length >= stash::kCipherOverhead);
    FUZZ_CHECK(uint64_t{b.offset} + b.length <= data_size);
  }
  return 0;
}
