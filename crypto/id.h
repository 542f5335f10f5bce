// Id: a SHA-256 digest, the name of every file and blob in a repository.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"

namespace stash {

struct Id {
  std::array<uint8_t, 32> bytes{};

  // 64 lower-case hex characters.
  std::string Hex() const;
  // The first 8 hex characters, as restic prints short ids.
  std::string Short() const { return Hex().substr(0, 8); }
  bool IsZero() const;

  // Parses exactly 64 hex characters (either case); nullopt otherwise.
  static std::optional<Id> FromHex(std::string_view hex);

  auto operator<=>(const Id&) const = default;
  bool operator==(const Id&) const = default;
};

// SHA-256 of `data`.
Id Sha256(ByteView data);

// Incremental SHA-256 for data that arrives in pieces (packs, files).
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(ByteView data);
  Id Finish();

 private:
  void* ctx_;  // EVP_MD_CTX*, kept opaque so OpenSSL headers stay private
};

}  // namespace stash

template <>
struct std::hash<stash::Id> {
  size_t operator()(const stash::Id& id) const noexcept {
    // The id is already a uniform hash; its first word is a fine bucket key.
    size_t h;
    std::memcpy(&h, id.bytes.data(), sizeof h);
    return h;
  }
};
