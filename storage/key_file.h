// Key files: the master key, encrypted with a key derived from a password.
//
// keys/<id> is plain JSON holding scrypt parameters, a salt and the master
// key sealed with the user key. Several key files may wrap the same master
// key (one per password). See docs/repository-format.md, 2.3.
#pragma once

#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/crypto_key.h"
#include "crypto/kdf.h"
#include "base/go_time.h"

namespace stash {

struct KeyFile {
  Timestamp created;
  std::string username;
  std::string hostname;
  std::string kdf = "scrypt";
  ScryptParams params;
  Bytes salt;  // 64 bytes
  Bytes data;  // sealed master key JSON
};

std::string EncodeKeyFile(const KeyFile& key);
Result<KeyFile> DecodeKeyFile(ByteView json);

// Unwraps the master key. kAuth if the password does not fit.
Result<CryptoKey> OpenKeyFile(const KeyFile& key, std::string_view password);

// A new key file wrapping `master` for `password` with fresh salt.
Result<KeyFile> NewKeyFile(const CryptoKey& master, std::string_view password,
                           const ScryptParams& params, std::string username,
                           std::string hostname);

// The master key as JSON, `{"mac":{"k":..,"r":..},"encrypt":..}`.
std::string EncodeMasterKey(const CryptoKey& key);
Result<CryptoKey> DecodeMasterKey(ByteView json);

}  // namespace stash
