#include "crypto/id.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "crypto/encoding.h"

namespace stash {
namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "stash: OpenSSL failure in %s\n", what);
  std::abort();
}

// OpenSSL 3 looks the algorithm up in its provider store on every init when
// given EVP_sha256(); fetching once avoids that lock-and-search per hash.
const EVP_MD* Sha256Md() {
  static const EVP_MD* md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  return md;
}

EVP_MD_CTX* Ctx(void* p) { return static_cast<EVP_MD_CTX*>(p); }

// The value of a hex digit (either case), or -1.
int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  char lower = static_cast<char>(c | 0x20);
  if (lower >= 'a' && lower <= 'f') return lower - 'a' + 10;
  return -1;
}

}  // namespace

std::string Id::Hex() const { return HexEncode(bytes); }

bool Id::IsZero() const {
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

// Not libsodium's decoder: ids are public (they name files), so its
// constant-time care buys nothing here, and it took 4% of the CPU of an
// incremental backup of 22,000 files, which decodes every parent tree.
std::optional<Id> Id::FromHex(std::string_view hex) {
  Id id;
  const size_t id_size = id.bytes.size();
  if (hex.size() != 2 * id_size) return std::nullopt;
  for (size_t i = 0; i < id_size; ++i) {
    int high = HexDigit(hex[2 * i]), low = HexDigit(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    id.bytes[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return id;
}

Id Sha256(ByteView data) {
  Id id;
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), id.bytes.data(), &len, Sha256Md(),
                 nullptr) != 1 ||
      len != id.bytes.size()) {
    Die("EVP_Digest");
  }
  return id;
}

Sha256Hasher::Sha256Hasher() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr || EVP_DigestInit_ex(Ctx(ctx_), Sha256Md(), nullptr) != 1)
    Die("EVP_DigestInit_ex");
}

Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(Ctx(ctx_)); }

void Sha256Hasher::Update(ByteView data) {
  if (data.empty()) return;
  if (EVP_DigestUpdate(Ctx(ctx_), data.data(), data.size()) != 1)
    Die("EVP_DigestUpdate");
}

Id Sha256Hasher::Finish() {
  Id id;
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(Ctx(ctx_), id.bytes.data(), &len) != 1 ||
      len != id.bytes.size()) {
    Die("EVP_DigestFinal_ex");
  }
  // Start over so the hasher can be reused for the next object.
  if (EVP_DigestInit_ex(Ctx(ctx_), Sha256Md(), nullptr) != 1)
    Die("EVP_DigestInit_ex");
  return id;
}

}  // namespace stash
