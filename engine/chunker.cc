// Rabin-fingerprint chunker, byte-exact with restic/chunker v0.4.0
// (docs/repository-format.md, 8).
//
// Speed: one rolling-hash step is a table lookup whose index depends on the
// previous step, so a single hash stream is latency bound (~6 cycles/byte).
// Past MinSize the fingerprint at a position is a function of the 64 bytes
// ending there and nothing else, so long stretches are split into lanes
// that are hashed independently and interleaved; the CPU then overlaps
// their lookups. The first cut over all lanes is the one restic finds.
#include "engine/chunker.h"

#include <algorithm>
#include <cassert>

namespace stash {
namespace {

constexpr size_t kWindowSize = 64;
// restic cuts where the low 20 bits of the fingerprint are zero (~1 MiB
// average past MinSize).
constexpr uint64_t kSplitMask = (uint64_t{1} << 20) - 1;

// Lane geometry. A lane starts with a 64-byte warm-up, and a cut found in
// one lane still costs finishing the others, so lanes are a few KiB: both
// overheads stay around 1% of a ~1 MiB hashed stretch.
constexpr size_t kLanes = 4;
constexpr size_t kLaneSize = 8 * 1024;
constexpr size_t kMinLaneSize = 512;

uint64_t Mod(uint64_t x, Polynomial pol) {
  const int dp = PolynomialDegree(pol);
  for (int dx = PolynomialDegree(x); dx >= dp; dx = PolynomialDegree(x)) {
    x ^= pol << (dx - dp);
  }
  return x;
}

uint64_t AppendByte(uint64_t h, uint8_t b, Polynomial pol) {
  return Mod((h << 8) | b, pol);
}

bool IsCut(uint64_t digest) { return (digest & kSplitMask) == 0; }

// Everything a hash step reads, copied out so the loops keep it in
// registers.
struct Roller {
  const uint64_t* mod;
  const uint64_t* out_shifted;
  int shift;

  explicit Roller(const ChunkerTables& t)
      : mod(t.mod.data()), out_shifted(t.out_shifted.data()),
        shift(t.pol_shift) {}

  // digest * X^8 + in, reduced; the digest is always below 2^deg, so its
  // top byte is all the reduction needs.
  uint64_t Append(uint64_t d, uint8_t in) const {
    return ((d << 8) | in) ^ mod[(d >> shift) & 0xff];
  }
  // One window step: `in` enters, `out` (64 bytes older) leaves.
  uint64_t Roll(uint64_t d, uint8_t in, uint8_t out) const {
    return Append(d, in) ^ out_shifted[out];
  }
  // Fingerprint of the 64 bytes at p.
  uint64_t Window(const uint8_t* p) const {
    uint64_t d = 0;
    for (size_t j = 0; j < kWindowSize; ++j) d = Append(d, p[j]);
    return d;
  }
};

}  // namespace

ChunkerTables::ChunkerTables(Polynomial p)
    : pol(p), pol_shift(PolynomialDegree(p) - 8) {
  // The digest stays below 2^deg and is shifted left by 8, and mod[] holds
  // b << deg: both must fit in 64 bits. restic only uses degree 53.
  assert(pol_shift >= 0 && pol_shift + 8 <= 56);
  const int k = pol_shift + 8;
  for (unsigned b = 0; b < 256; ++b) {
    uint64_t h = AppendByte(0, static_cast<uint8_t>(b), pol);
    for (size_t i = 1; i < kWindowSize; ++i) h = AppendByte(h, 0, pol);
    out[b] = h;
    out_shifted[b] = AppendByte(h, 0, pol);
    const uint64_t top = uint64_t{b} << k;
    mod[b] = Mod(top, pol) | top;
  }
}

Chunker::Chunker(const ChunkerTables& tables, size_t min_size, size_t max_size)
    : t_(tables), min_size_(min_size), max_size_(max_size) {
  assert(min_size_ >= kWindowSize && min_size_ <= max_size_);
  Reset();
}

void Chunker::Reset() {
  window_.fill(0);
  wpos_ = 0;
  digest_ = 0;
  count_ = 0;
  // restic primes the window with a single 1 byte; it decides the
  // fingerprint of tails that never reach the hashed region.
  Slide(1);
  // Cuts are never checked before MinSize, and only the last 64 bytes
  // matter for a cut, so the first MinSize-64 bytes need no hashing.
  pre_ = min_size_ - kWindowSize;
}

void Chunker::Slide(uint8_t b) {
  digest_ ^= t_.out[window_[wpos_]];
  window_[wpos_] = b;
  wpos_ = (wpos_ + 1) % kWindowSize;
  digest_ = Roller(t_).Append(digest_, b);
}

size_t Chunker::Find(ByteView data) {
  boundary_ = false;
  const size_t n = data.size();

  size_t i = std::min(pre_, n);
  pre_ -= i;
  count_ += i;
  if (i == n) return n;

  const uint8_t* p = data.data();
  const size_t end = i + std::min(n - i, max_size_ - count_);
  // Lanes read the bytes leaving the window straight from `data`, so the
  // first 64 hashed bytes of each call go through the window ring.
  bool cut = HashSerial(p, i, std::min(end, i + kWindowSize)) ||
             HashLanes(p, i, end) || HashSerial(p, i, end);
  if (cut || count_ == max_size_) {
    cut_fp_ = digest_;
    boundary_ = true;
    Reset();
  }
  return i;
}

// Hashes p[i, end) byte by byte through the window ring. Returns true if
// it cut, with i just past the cut and digest_ its fingerprint.
bool Chunker::HashSerial(const uint8_t* p, size_t& i, size_t end) {
  if (i >= end) return false;
  const Roller r(t_);
  // Locals let the compiler keep the state in registers: a store through
  // a member uint8_t could alias anything.
  std::array<uint8_t, kWindowSize> window = window_;
  size_t wpos = wpos_;
  uint64_t digest = digest_;
  size_t count = count_;
  bool cut = false;
  while (i < end) {
    const uint8_t b = p[i++];
    digest = r.Roll(digest, b, window[wpos]);
    window[wpos] = b;
    wpos = (wpos + 1) % kWindowSize;
    ++count;
    // Before MinSize the window still holds the reset byte; restic does
    // not cut there.
    if (IsCut(digest) && count >= min_size_) {
      cut = true;
      break;
    }
  }
  window_ = window;
  wpos_ = wpos;
  digest_ = digest;
  count_ = count;
  return cut;
}

// Hashes p[i, end) in interleaved lanes, leaving a tail shorter than a
// minimal block for HashSerial. Requires the 64 bytes before i to be hashed
// bytes of this chunk (so count_ >= MinSize and every position may cut).
// Same contract as HashSerial otherwise.
bool Chunker::HashLanes(const uint8_t* p, size_t& i, size_t end) {
  if (end - i < kLanes * kMinLaneSize) return false;
  assert(count_ >= min_size_);
  const Roller r(t_);
  const size_t start = i;
  uint64_t d0 = digest_;
  bool cut = false;
  while (!cut && end - i >= kLanes * kMinLaneSize) {
    const size_t len = std::min(kLaneSize, (end - i) / kLanes);
    const uint8_t* l0 = p + i;
    const uint8_t* l1 = l0 + len;
    const uint8_t* l2 = l1 + len;
    const uint8_t* l3 = l2 + len;
    // Bytes leaving each lane's window (valid: 64 hashed bytes precede i).
    const uint8_t* o0 = l0 - kWindowSize;
    const uint8_t* o1 = l1 - kWindowSize;
    const uint8_t* o2 = l2 - kWindowSize;
    const uint8_t* o3 = l3 - kWindowSize;
    uint64_t d1 = r.Window(o1);
    uint64_t d2 = r.Window(o2);
    uint64_t d3 = r.Window(o3);

    // First cut offset and fingerprint per lane; len means none.
    size_t at[kLanes] = {len, len, len, len};
    uint64_t fp[kLanes] = {};
    for (size_t j = 0; j < len; ++j) {
      d0 = r.Roll(d0, l0[j], o0[j]);
      d1 = r.Roll(d1, l1[j], o1[j]);
      d2 = r.Roll(d2, l2[j], o2[j]);
      d3 = r.Roll(d3, l3[j], o3[j]);
      if (IsCut(d0) | IsCut(d1) | IsCut(d2) | IsCut(d3)) [[unlikely]] {
        const uint64_t d[kLanes] = {d0, d1, d2, d3};
        for (size_t k = 0; k < kLanes; ++k) {
          if (at[k] == len && IsCut(d[k])) {
            at[k] = j;
            fp[k] = d[k];
          }
        }
        // Nothing in later lanes can precede a cut in lane 0.
        if (at[0] < len) break;
      }
    }

    for (size_t k = 0; k < kLanes && !cut; ++k) {
      if (at[k] < len) {
        i += k * len + at[k] + 1;
        d0 = fp[k];
        cut = true;
      }
    }
    if (!cut) {
      i += kLanes * len;
      d0 = d3;
    }
  }

  count_ += i - start;
  digest_ = d0;
  if (!cut) {
    // HashSerial continues from the ring: refill it, oldest byte first.
    std::copy(p + i - kWindowSize, p + i, window_.begin());
    wpos_ = 0;
  }
  return cut;
}

}  // namespace stash
