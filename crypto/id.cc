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

}  // namespace

std::string Id::Hex() const { return HexEncode(bytes); }

bool Id::IsZero() const {
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

std::optional<Id> Id::FromHex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  auto raw = HexDecode(hex);
  if (!raw) return std::nullopt;
  Id id;
  std::copy(raw->begin(), raw->end(), id.bytes.begin());
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
