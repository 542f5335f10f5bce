#include "crypto/encoding.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

namespace stash {
namespace {

constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;

// sodium_init selects implementations once; a function-local static keeps
// that thread-safe without taking libsodium's lock on every call.
void EnsureSodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) {
    std::fputs("stash: libsodium failed to initialise\n", stderr);
    std::abort();
  }
}

}  // namespace

std::string HexEncode(ByteView data) {
  EnsureSodium();
  // libsodium writes a terminating NUL, so size the buffer one larger and
  // trim it afterwards.
  std::string out(data.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data.data(), data.size());
  out.resize(data.size() * 2);
  return out;
}

std::optional<Bytes> HexDecode(std::string_view hex) {
  EnsureSodium();
  if (hex.size() % 2 != 0) return std::nullopt;
  // The output pointer must be non-null, which an empty vector may not give.
  if (hex.empty()) return Bytes{};
  Bytes out(hex.size() / 2);
  size_t len = 0;
  // With hex_end == nullptr, libsodium fails unless the whole input parsed.
  if (sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(),
                     /*ignore=*/nullptr, &len, /*hex_end=*/nullptr) != 0 ||
      len != out.size()) {
    return std::nullopt;
  }
  return out;
}

std::string Base64Encode(ByteView data) {
  EnsureSodium();
  // ENCODED_LEN counts the terminating NUL that libsodium writes.
  const size_t encoded = sodium_base64_ENCODED_LEN(data.size(), kVariant);
  std::string out(encoded, '\0');
  sodium_bin2base64(out.data(), out.size(), data.data(), data.size(),
                    kVariant);
  out.resize(encoded - 1);
  return out;
}

std::optional<Bytes> Base64Decode(std::string_view text) {
  EnsureSodium();
  // Padded base64 always comes in whole quanta of four characters.
  if (text.size() % 4 != 0) return std::nullopt;
  if (text.empty()) return Bytes{};
  Bytes out(text.size() / 4 * 3);
  size_t len = 0;
  // b64_end == nullptr makes trailing garbage an error; libsodium also
  // insists on correct padding and zero leftover bits.
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(),
                        /*ignore=*/nullptr, &len, /*b64_end=*/nullptr,
                        kVariant) != 0) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

}  // namespace stash
