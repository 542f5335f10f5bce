// Content-defined chunker that cuts exactly where restic's does.
//
// Given the repository polynomial, the same bytes are split at the same
// places by restic and by us, so data backed up by either deduplicates.
// Chunks are at least 512 KiB and at most 8 MiB except the last one of a
// stream. See docs/repository-format.md, 8 (tables, rolling hash, reset rule).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "base/bytes.h"
#include "engine/polynomial.h"

namespace stash {

inline constexpr size_t kChunkMinSize = 512 * 1024;
inline constexpr size_t kChunkMaxSize = 8 * 1024 * 1024;

// Precomputed lookup tables for one polynomial. Building them costs a few
// microseconds; share one instance per repository.
struct ChunkerTables {
  explicit ChunkerTables(Polynomial pol);
  Polynomial pol;
  int pol_shift;  // deg(pol) - 8
  std::array<uint64_t, 256> out;  // contribution of a byte leaving the window
  std::array<uint64_t, 256> mod;  // reduction of the top byte
  // out[b] * X^8 mod pol: removing a byte before the shift equals removing
  // this after it, which takes a step off the hash's dependency chain.
  std::array<uint64_t, 256> out_shifted;
};

// Splits a byte stream into chunks. Feed data in any pieces; the boundaries
// depend only on the bytes, never on how they were fed.
//
//   Chunker c(tables);
//   while (more data) {
//     size_t used = 0;
//     while (used < buf.size()) {
//       size_t n = c.Find(buf.subspan(used));   // bytes that belong to the
//       used += n;                               // current chunk
//       if (c.AtBoundary()) { ... chunk ends after those n bytes ... }
//     }
//   }
//   // at EOF: whatever was fed since the last boundary is the final chunk.
class Chunker {
 public:
  explicit Chunker(const ChunkerTables& tables, size_t min_size = kChunkMinSize,
                   size_t max_size = kChunkMaxSize);

  // Consumes bytes from `data` up to and including the next cut point, or
  // all of it if no cut point is in it. Returns how many bytes it consumed.
  size_t Find(ByteView data);

  // True right after Find() consumed the last byte of a chunk; the next
  // Find() starts a new chunk.
  bool AtBoundary() const { return boundary_; }

  // Rabin fingerprint at the last cut (for test vectors).
  uint64_t LastCutFingerprint() const { return cut_fp_; }

  // Rabin fingerprint after the last consumed byte; at EOF this is what
  // restic reports as the final chunk's cut (1 for a tail shorter than
  // MinSize-64, since those bytes are never hashed).
  uint64_t CurrentFingerprint() const { return digest_; }

  // Bytes consumed into the current, not yet finished chunk.
  size_t CurrentLength() const { return count_; }

 private:
  void Reset();
  void Slide(uint8_t b);
  bool HashSerial(const uint8_t* p, size_t& i, size_t end);
  bool HashLanes(const uint8_t* p, size_t& i, size_t end);

  const ChunkerTables& t_;
  size_t min_size_, max_size_;
  std::array<uint8_t, 64> window_{};
  size_t wpos_ = 0;
  uint64_t digest_ = 0;
  size_t count_ = 0;
  size_t pre_ = 0;
  bool boundary_ = false;
  uint64_t cut_fp_ = 0;
};

}  // namespace stash
