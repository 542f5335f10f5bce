// Pack files: encrypted blobs back to back, then an encrypted header.
//
//   EncBlob_1 .. EncBlob_n || Seal(header entries) || uint32le(header size)
//
// A header entry is type(1) len_enc(4) [len_plain(4)] id(32); types 2 and 3
// are zstd-compressed blobs (format 2 only). See docs/repository-format.md, 4.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
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

// A finished pack: its id, its blobs, and its bytes in an unlinked
// temporary file, which an upload copies from (Backend::WriteFromFile)
// instead of a heap copy. The file goes away with the object.
class PackFile {
 public:
  PackFile() = default;
  PackFile(PackFile&& other) noexcept { *this = std::move(other); }
  PackFile& operator=(PackFile&& other) noexcept;
  PackFile(const PackFile&) = delete;
  PackFile& operator=(const PackFile&) = delete;
  ~PackFile() { Close(); }

  Id id;
  std::vector<PackedBlob> blobs;

  // The bytes, mapped read-only on first use (empty if that fails).
  ByteView bytes() const;
  size_t size() const { return size_; }
  int fd() const { return fd_; }

 private:
  friend class PackWriter;
  void Close();
  int fd_ = -1;
  mutable void* map_ = nullptr;
  size_t size_ = 0;
};

// Builds one pack in a temporary file, as restic does: blobs are sealed one
// at a time and written out, so a filling pack costs no memory beyond the
// blob being added and a 64 KiB write buffer. The file is created without a name where the file
// system allows (O_TMPFILE), else named and unlinked at once, so nothing is
// left behind on error or exit. Folder: `temp_dir`, else $TMPDIR, else /tmp.
class PackWriter {
 public:
  explicit PackWriter(const CryptoKey& key, std::string temp_dir = {})
      : key_(key), temp_dir_(std::move(temp_dir)) {}
  ~PackWriter();
  PackWriter(const PackWriter&) = delete;
  PackWriter& operator=(const PackWriter&) = delete;

  // Appends a blob. `payload` is the plaintext, or its zstd frame when
  // `uncompressed_length` is non-zero. kIO if the temporary file cannot be
  // written: the pack is lost, and the writer unusable until Discard.
  Status Add(BlobType type, const Id& id, ByteView payload, uint32_t uncompressed_length);

  // Appends a blob from its plaintext, zstd-compressed at `zstd_level` (0:
  // not at all) when that makes it smaller (format 2). Empty blobs are never
  // stored compressed: restic reads uncompressed_length 0 as "not compressed".
  Status AddPlaintext(BlobType type, const Id& id, ByteView plaintext, int zstd_level);

  size_t Size() const { return size_; }
  size_t Count() const { return blobs_.size(); }
  bool Empty() const { return blobs_.empty(); }
  const std::vector<PackedBlob>& Blobs() const { return blobs_; }

  // Seals the header and hands over the whole pack; the writer is left
  // empty (its next blob starts a new file).
  Result<PackFile> Finish();

  // Drops the pack; returns the blobs that were in it.
  std::vector<PackedBlob> Discard();

 private:
  // Appends a blob already sealed (nonce, ciphertext, tag).
  Status AddSealed(BlobType type, const Id& id, ByteView sealed, uint32_t uncompressed_length);
  // Seals `payload` into the file a piece at a time (a large blob).
  Status AddInPieces(BlobType type, const Id& id, ByteView payload, uint32_t uncompressed_length);
  // Lists a blob the file now holds at `offset`.
  void Record(BlobType type, const Id& id, size_t offset, size_t length, uint32_t uncompressed_length);
  // Appends to the file through pending_: the blobs of small files are a
  // few KiB each, and a write call apiece cost a first backup of 22,000
  // small files a tenth of its CPU.
  Status Append(ByteView bytes);
  Status Flush();
  Status WriteOut(ByteView bytes);
  void Reset();

  const CryptoKey& key_;
  std::string temp_dir_;
  int fd_ = -1;
  size_t size_ = 0;
  std::unique_ptr<Sha256Hasher> hasher_;
  std::vector<PackedBlob> blobs_;
  static constexpr size_t kWriteBuffer = 64u << 10;
  Bytes pending_;  // appended, not yet written: under kWriteBuffer bytes
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
