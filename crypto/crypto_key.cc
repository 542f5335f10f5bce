#include "crypto/crypto_key.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "crypto/random.h"

namespace stash {
namespace {

constexpr uint8_t kClampMask[16] = {0xff, 0xff, 0xff, 0x0f, 0xfc, 0xff,
                                    0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f,
                                    0xfc, 0xff, 0xff, 0x0f};

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "stash: crypto failure in %s\n", what);
  std::abort();
}

// Poly1305 (libsodium) dispatches to SIMD code only after sodium_init; the
// function-local static makes the one-time init thread-safe.
void EnsureSodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) Die("sodium_init");
}

// OpenSSL 3 performs an implicit provider lookup on every init when handed
// EVP_aes_*(); fetching once keeps small blobs (tree nodes) cheap.
const EVP_CIPHER* FetchCipher(const char* name, const EVP_CIPHER* fallback) {
  const EVP_CIPHER* fetched = EVP_CIPHER_fetch(nullptr, name, nullptr);
  return fetched != nullptr ? fetched : fallback;
}

const EVP_CIPHER* Aes256Ctr() {
  static const EVP_CIPHER* c = FetchCipher("AES-256-CTR", EVP_aes_256_ctr());
  return c;
}

const EVP_CIPHER* Aes128Ecb() {
  static const EVP_CIPHER* c = FetchCipher("AES-128-ECB", EVP_aes_128_ecb());
  return c;
}

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

CipherCtx NewCtx() {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) Die("EVP_CIPHER_CTX_new");
  return ctx;
}

bool AllZero(const uint8_t* p, size_t n) { return sodium_is_zero(p, n) == 1; }

// Runs `in` through an already initialised encryption context. EVP takes
// int lengths, so very large inputs go in slices.
void CipherUpdate(EVP_CIPHER_CTX* ctx, const uint8_t* in, size_t n,
                  uint8_t* out) {
  constexpr size_t kSlice = size_t{1} << 30;
  while (n > 0) {
    const int len = static_cast<int>(std::min(n, kSlice));
    int written = 0;
    if (EVP_EncryptUpdate(ctx, out, &written, in, len) != 1 || written != len)
      Die("EVP_EncryptUpdate");
    in += len;
    out += len;
    n -= static_cast<size_t>(len);
  }
}

// One thread's cipher contexts, keyed once for the key it last used. An
// OpenSSL 3 context made and keyed per message costs an allocation, a
// provider lookup and two key schedules: more than sealing a small blob
// (a tree, a small file) itself. Per message only the nonce changes.
class ThreadCiphers {
 public:
  static ThreadCiphers& For(const CryptoKey& key) {
    EnsureSodium();
    thread_local ThreadCiphers ciphers;
    ciphers.Key(key);
    return ciphers;
  }
  ~ThreadCiphers() {
    sodium_memzero(encrypt_.data(), encrypt_.size());
    sodium_memzero(mac_k_.data(), mac_k_.size());
  }

  // CTR is its own inverse, so this both encrypts and decrypts.
  void Ctr(const uint8_t nonce[kNonceSize], ByteView in, uint8_t* out) {
    if (in.empty()) return;
    // A null cipher and key keep the schedule; the IV restarts the counter.
    if (EVP_EncryptInit_ex(ctr_.get(), nullptr, nullptr, nullptr, nonce) != 1)
      Die("EVP_EncryptInit_ex(ctr iv)");
    CipherUpdate(ctr_.get(), in.data(), in.size(), out);
  }

  // AES-128_k of one block (ECB keeps no state between blocks).
  void Block(const uint8_t in[16], uint8_t out[16]) {
    CipherUpdate(ecb_.get(), in, 16, out);
  }

 private:
  ThreadCiphers() : ctr_(NewCtx()), ecb_(NewCtx()) {}

  void Key(const CryptoKey& key) {
    if (keyed_ && sodium_memcmp(encrypt_.data(), key.encrypt.data(), encrypt_.size()) == 0 &&
        sodium_memcmp(mac_k_.data(), key.mac_k.data(), mac_k_.size()) == 0)
      return;
    if (EVP_EncryptInit_ex(ctr_.get(), Aes256Ctr(), nullptr, key.encrypt.data(), nullptr) != 1)
      Die("EVP_EncryptInit_ex(ctr)");
    if (EVP_EncryptInit_ex(ecb_.get(), Aes128Ecb(), nullptr, key.mac_k.data(), nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(ecb_.get(), 0) != 1)
      Die("EVP_EncryptInit_ex(ecb)");
    encrypt_ = key.encrypt;
    mac_k_ = key.mac_k;
    keyed_ = true;
  }

  std::array<uint8_t, 32> encrypt_{};
  std::array<uint8_t, 16> mac_k_{};
  bool keyed_ = false;
  CipherCtx ctr_;
  CipherCtx ecb_;
};

void AesCtr(const CryptoKey& key, const uint8_t nonce[kNonceSize],
            ByteView in, uint8_t* out) {
  ThreadCiphers::For(key).Ctr(nonce, in, out);
}

struct MacCtxFree {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

using MacCtx = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;

// OpenSSL's Poly1305 (its AVX2 code runs 2.5 times as fast as libsodium's on
// 64 KiB, and is faster from about 256 bytes up), or null when the loaded
// providers have none (a FIPS-only configuration): then libsodium's.
EVP_MAC* Poly1305Mac() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "POLY1305", nullptr);
  return mac;
}

EVP_MAC_CTX* ThreadPoly1305() {
  if (Poly1305Mac() == nullptr) return nullptr;
  thread_local MacCtx ctx(EVP_MAC_CTX_new(Poly1305Mac()));
  return ctx.get();
}

// The per-message Poly1305 key: clamp(r) || AES-128_k(nonce).
std::array<uint8_t, 32> OneTimeKey(const CryptoKey& key,
                                   const uint8_t nonce[kNonceSize]) {
  std::array<uint8_t, 32> otk;
  for (size_t i = 0; i < 16; ++i) otk[i] = key.mac_r[i] & kClampMask[i];
  ThreadCiphers::For(key).Block(nonce, otk.data() + 16);
  return otk;
}

void RandomNonce(uint8_t nonce[kNonceSize]) {
  // An all-zero nonce is rejected by readers; with 128 random bits this loop
  // practically never repeats, but it keeps Seal infallible.
  do {
    RandomNonceBytes(std::span<uint8_t, kNonceSize>(nonce, kNonceSize));
  } while (AllZero(nonce, kNonceSize));
}

}  // namespace

bool CryptoKey::Valid() const {
  return !AllZero(encrypt.data(), encrypt.size()) &&
         !AllZero(mac_k.data(), mac_k.size()) &&
         !AllZero(mac_r.data(), mac_r.size());
}

CryptoKey CryptoKey::Generate() {
  CryptoKey key;
  do {
    RandomBytes(key.encrypt);
    RandomBytes(key.mac_k);
    RandomBytes(key.mac_r);
    for (size_t i = 0; i < 16; ++i) key.mac_r[i] &= kClampMask[i];
  } while (!key.Valid());
  return key;
}

std::array<uint8_t, 16> Poly1305(const std::array<uint8_t, 32>& one_time_key, ByteView message) {
  std::array<uint8_t, 16> tag;
  EVP_MAC_CTX* ctx = ThreadPoly1305();
  if (ctx == nullptr) {
    EnsureSodium();
    crypto_onetimeauth_poly1305(tag.data(), message.data(), message.size(), one_time_key.data());
    return tag;
  }
  size_t written = 0;
  if (EVP_MAC_init(ctx, one_time_key.data(), one_time_key.size(), nullptr) != 1) Die("EVP_MAC_init");
  // EVP_MAC_update takes size_t lengths, so one call does any message.
  if (EVP_MAC_update(ctx, message.data(), message.size()) != 1) Die("EVP_MAC_update");
  if (EVP_MAC_final(ctx, tag.data(), &written, tag.size()) != 1 || written != tag.size())
    Die("EVP_MAC_final");
  return tag;
}

std::array<uint8_t, 16> Poly1305Aes(const CryptoKey& key,
                                    const uint8_t nonce[kNonceSize],
                                    ByteView message) {
  std::array<uint8_t, 32> otk = OneTimeKey(key, nonce);
  std::array<uint8_t, 16> tag = Poly1305(otk, message);
  sodium_memzero(otk.data(), otk.size());
  return tag;
}

Bytes Seal(const CryptoKey& key, ByteView plaintext) {
  Bytes out;
  out.reserve(plaintext.size() + kCipherOverhead);
  SealAppend(key, plaintext, out);
  return out;
}

// `plaintext` must not point into `out`: growing `out` may move it.
void SealAppend(const CryptoKey& key, ByteView plaintext, Bytes& out) {
  const size_t start = out.size();
  out.resize(start + plaintext.size() + kCipherOverhead);
  SealInto(key, plaintext, out.data() + start);
}

void SealInto(const CryptoKey& key, ByteView plaintext, uint8_t* out) {
  uint8_t* nonce = out;
  uint8_t* ct = nonce + kNonceSize;
  RandomNonce(nonce);
  // AES-CTR may write over its own input (EVP allows in == out).
  AesCtr(key, nonce, plaintext, ct);
  const auto tag = Poly1305Aes(key, nonce, ByteView(ct, plaintext.size()));
  std::memcpy(ct + plaintext.size(), tag.data(), kTagSize);
}

void SealInPlace(const CryptoKey& key, Bytes& buf) {
  const size_t size = buf.size() - kNonceSize;
  buf.resize(buf.size() + kTagSize);
  SealInto(key, ByteView(buf.data() + kNonceSize, size), buf.data());
}

struct StreamSealer::State {
  CipherCtx ctr = NewCtx();
  MacCtx mac;  // null: libsodium's Poly1305, in `sodium`
  crypto_onetimeauth_poly1305_state sodium;
};

StreamSealer::StreamSealer(const CryptoKey& key) : state_(std::make_unique<State>()) {
  RandomNonce(nonce_.data());
  if (EVP_EncryptInit_ex(state_->ctr.get(), Aes256Ctr(), nullptr, key.encrypt.data(), nonce_.data()) != 1)
    Die("EVP_EncryptInit_ex(stream ctr)");
  std::array<uint8_t, 32> otk = OneTimeKey(key, nonce_.data());
  if (Poly1305Mac() != nullptr) {
    state_->mac.reset(EVP_MAC_CTX_new(Poly1305Mac()));
    if (!state_->mac || EVP_MAC_init(state_->mac.get(), otk.data(), otk.size(), nullptr) != 1)
      Die("EVP_MAC_init(stream)");
  } else {
    crypto_onetimeauth_poly1305_init(&state_->sodium, otk.data());
  }
  sodium_memzero(otk.data(), otk.size());
}

StreamSealer::~StreamSealer() { sodium_memzero(&state_->sodium, sizeof state_->sodium); }

void StreamSealer::Update(ByteView plaintext, uint8_t* out) {
  if (plaintext.empty()) return;
  // The context keeps CTR's counter (and any partial block) between pieces.
  CipherUpdate(state_->ctr.get(), plaintext.data(), plaintext.size(), out);
  if (state_->mac) {
    if (EVP_MAC_update(state_->mac.get(), out, plaintext.size()) != 1) Die("EVP_MAC_update(stream)");
  } else {
    crypto_onetimeauth_poly1305_update(&state_->sodium, out, plaintext.size());
  }
}

std::array<uint8_t, kTagSize> StreamSealer::Finish() {
  std::array<uint8_t, kTagSize> tag;
  if (state_->mac) {
    size_t written = 0;
    if (EVP_MAC_final(state_->mac.get(), tag.data(), &written, tag.size()) != 1 || written != tag.size())
      Die("EVP_MAC_final(stream)");
  } else {
    crypto_onetimeauth_poly1305_final(&state_->sodium, tag.data());
  }
  return tag;
}

Result<Bytes> Open(const CryptoKey& key, ByteView sealed) {
  Bytes plaintext;
  STASH_RETURN_IF_ERROR(OpenInto(key, sealed, plaintext));
  return plaintext;
}

namespace {

// Checks the MAC of `sealed`; returns its ciphertext.
Result<ByteView> Verify(const CryptoKey& key, ByteView sealed) {
  if (sealed.size() < kCipherOverhead) return Corrupt("ciphertext too short");
  // An all-zero key makes the MAC forgeable (r = 0), so refuse to trust it.
  if (!key.Valid()) return Corrupt("invalid key");
  const uint8_t* nonce = sealed.data();
  const ByteView ct = sealed.subspan(kNonceSize, sealed.size() - kCipherOverhead);
  const uint8_t* tag = sealed.data() + sealed.size() - kTagSize;
  if (AllZero(nonce, kNonceSize)) {
    return Corrupt("ciphertext verification failed");
  }
  const std::array<uint8_t, 16> expected = Poly1305Aes(key, nonce, ct);
  if (sodium_memcmp(expected.data(), tag, kTagSize) != 0) return Corrupt("ciphertext verification failed");
  return ct;
}

}  // namespace

Status OpenInto(const CryptoKey& key, ByteView sealed, Bytes& out) {
  STASH_ASSIGN_OR_RETURN(ByteView ct, Verify(key, sealed));
  out.resize(ct.size());
  AesCtr(key, sealed.data(), ct, out.data());
  return Status::Ok();
}

Result<ByteView> OpenInPlace(const CryptoKey& key, std::span<uint8_t> sealed) {
  STASH_ASSIGN_OR_RETURN(ByteView ct, Verify(key, sealed));
  uint8_t* plain = sealed.data() + kNonceSize;
  AesCtr(key, sealed.data(), ct, plain);  // CTR mode may write over its input
  return ByteView(plain, ct.size());
}

}  // namespace stash
