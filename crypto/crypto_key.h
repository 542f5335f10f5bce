// restic's authenticated encryption: AES-256-CTR + Poly1305-AES.
//
// A sealed message is nonce(16) || ciphertext || tag(16). The Poly1305 key
// for each message is r || AES-128_k(nonce), where (k, r) is the MAC half of
// the key; the tag covers the ciphertext only. See docs/repository-format.md, 2.1.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "base/bytes.h"
#include "base/result.h"

namespace stash {

inline constexpr size_t kCipherOverhead = 32;  // nonce + tag
inline constexpr size_t kNonceSize = 16;
inline constexpr size_t kTagSize = 16;

struct CryptoKey {
  std::array<uint8_t, 32> encrypt{};
  std::array<uint8_t, 16> mac_k{};
  std::array<uint8_t, 16> mac_r{};  // clamped on every use

  // A key is usable only if no part of it is all zero.
  bool Valid() const;

  // A new random key with r clamped, as restic generates master keys.
  static CryptoKey Generate();
};

// The one-time Poly1305 tag of `message` under a 32-byte key r || s
// (exposed for tests, which compare it with libsodium's).
std::array<uint8_t, 16> Poly1305(const std::array<uint8_t, 32>& one_time_key, ByteView message);

// Poly1305-AES over `message` with the given nonce (exposed for test vectors).
std::array<uint8_t, 16> Poly1305Aes(const CryptoKey& key,
                                    const uint8_t nonce[kNonceSize],
                                    ByteView message);

// Encrypts with a fresh random nonce: returns nonce || ct || tag.
Bytes Seal(const CryptoKey& key, ByteView plaintext);

// Same, appending to `out` (avoids a copy when building packs).
void SealAppend(const CryptoKey& key, ByteView plaintext, Bytes& out);

// Same, into `out`, which has room for plaintext.size() + kCipherOverhead
// bytes. `plaintext` may lie at out + kNonceSize (sealed in place) but must
// not overlap `out` otherwise.
void SealInto(const CryptoKey& key, ByteView plaintext, uint8_t* out);

// Same, for a large message without a second copy of it: `buf` holds
// kNonceSize bytes of room (their value does not matter), then the
// plaintext; on return it holds nonce || ct || tag, as Seal would return.
void SealInPlace(const CryptoKey& key, Bytes& buf);

// Seals one message in pieces, for a writer that passes each piece on (a
// pack's temporary file) rather than holding the whole ciphertext: nonce(),
// then what Update writes piece by piece, then Finish's tag are, end to end,
// what SealInto writes for the whole message. It owns its cipher and MAC
// state, so other sealing on the same thread may come in between.
class StreamSealer {
 public:
  explicit StreamSealer(const CryptoKey& key);  // with a fresh random nonce
  ~StreamSealer();
  StreamSealer(const StreamSealer&) = delete;
  StreamSealer& operator=(const StreamSealer&) = delete;

  const std::array<uint8_t, kNonceSize>& nonce() const { return nonce_; }
  // Encrypts the next piece into `out` (plaintext.size() bytes, which may
  // be the plaintext's own).
  void Update(ByteView plaintext, uint8_t* out);
  // The tag over every piece so far. Call once, last.
  std::array<uint8_t, kTagSize> Finish();

 private:
  struct State;
  std::array<uint8_t, kNonceSize> nonce_{};
  std::unique_ptr<State> state_;
};

// Verifies the MAC (constant time), then decrypts. Errors are kCorrupt with
// the message "ciphertext verification failed" (or "ciphertext too short").
Result<Bytes> Open(const CryptoKey& key, ByteView sealed);
// Same, into `out` (resized to the plaintext; its capacity is reused, so a
// reader of many blobs touches no fresh pages per blob). On error `out`
// is unspecified.
Status OpenInto(const CryptoKey& key, ByteView sealed, Bytes& out);
// Same, decrypting where the ciphertext lies, for a reader that owns the
// sealed bytes and needs them no longer: the plaintext is the returned view
// into `sealed` (the nonce and the tag around it are left as they were).
// Saves writing every byte once more into a second buffer. On error
// `sealed` is unchanged (the MAC is checked before anything is decrypted).
Result<ByteView> OpenInPlace(const CryptoKey& key, std::span<uint8_t> sealed);

}  // namespace stash
