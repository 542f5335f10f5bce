// Pack files: encrypted blobs back to back, then an encrypted header.
//
//   EncBlob_1 .. EncBlob_n || Seal(header entries) || uint32le(header size)
//
// A header entry is type(1) len_enc(4) [len_plain(4)] id(32); types 2 and 3
// are zstd-compressed blobs (format 2 only). See docs/repository-format.md, 4.
#pragma once

#include <cstdint>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/crypto_key.h"
#include "crypto/id.h"

namespace stash {

enum class BlobType : uint8_t { kData = 0, kTree = 1 };

const char* BlobTypeName(BlobType type);  // "data" / "tree"

// Where one blob sits in a pack.
struct PackedBlob {
  BlobType type = BlobType::kData;
  Id id;
  uint32_t offset = 0;               // of the encrypted blob in the pack
  uint32_t length = 0;               // encrypted length (payload + 32)
  uint32_t uncompressed_length = 0;  // plaintext length if compressed, else 0

  bool compressed() const { return uncompressed_length != 0; }
  // Plaintext length whether compressed or not.
  uint32_t PlainLength() const {
    return compressed() ? uncompressed_length : length - 32;
  }
};

inline constexpr size_t kPackEntrySize = 37;
inline constexpr size_t kPackCompressedEntrySize = 41;
inline constexpr uint32_t kMaxPackHeaderSize = 16 * 1024 * 1024;
// restic reads this many bytes from the end of a pack in one go, which holds
// the whole header of a pack with up to 15 blobs.
inline constexpr size_t kPackTailEagerRead = 15 * kPackCompressedEntrySize + 32 + 4;

// Size of a pack's header (sealed, plus the 4 length bytes) for these blobs.
uint64_t PackHeaderSize(const std::vector<PackedBlob>& blobs);

// Builds one pack in memory.
class PackWriter {
 public:
  // `expected_size` is reserved up front so a pack never reallocates (and
  // briefly doubles) while it fills.
  explicit PackWriter(const CryptoKey& key, size_t expected_size = 0)
      : key_(key), expected_size_(expected_size) {}

  // Appends a blob. `payload` is the plaintext, or its zstd frame when
  // `uncompressed_length` is non-zero.
  void Add(BlobType type, const Id& id, ByteView payload, uint32_t uncompressed_length);

  // Appends a blob from its plaintext, zstd-compressed at `zstd_level` (0:
  // not at all) when that makes it smaller (format 2). Empty blobs are never
  // stored compressed: restic reads uncompressed_length 0 as "not compressed".
  void AddPlaintext(BlobType type, const Id& id, ByteView plaintext, int zstd_level);

  size_t Size() const { return data_.size(); }
  size_t Count() const { return blobs_.size(); }
  bool Empty() const { return blobs_.empty(); }
  const std::vector<PackedBlob>& Blobs() const { return blobs_; }

  // Seals the header and returns the whole pack; the writer is left empty.
  // `blobs` receives the entries, `id` the pack's file name.
  Bytes Finish(Id& id, std::vector<PackedBlob>& blobs);

 private:
  const CryptoKey& key_;
  size_t expected_size_;
  Bytes data_;
  std::vector<PackedBlob> blobs_;
};

// Parses the header of a pack from the pack's last bytes.
//   tail       : the last bytes of the pack (at least the header + 4)
//   pack_size  : the size of the whole pack file
// kCorrupt on a bad length, MAC, or entry, naming nothing (callers wrap the
// error with the pack's name).
Result<std::vector<PackedBlob>> ParsePackHeader(const CryptoKey& key, ByteView tail,
                                                uint64_t pack_size);

// How many bytes from the end hold the header, from the 4-byte trailer.
Result<uint32_t> PackHeaderLength(ByteView trailer4, uint64_t pack_size);

}  // namespace stash
