// Rabin-fingerprint chunker, byte-exact with restic/chunker v0.4.0
// (restic-format.md §8).
#include "engine/chunker.h"

#include <algorithm>
#include <cassert>

namespace stash {
namespace {

constexpr size_t kWindowSize = 64;
// restic cuts where the low 20 bits of the fingerprint are zero (~1 MiB
// average past MinSize).
constexpr uint64_t kSplitMask = (uint64_t{1} << 20) - 1;

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
  digest_ = ((digest_ << 8) | b) ^ t_.mod[(digest_ >> t_.pol_shift) & 0xff];
}

size_t Chunker::Find(ByteView data) {
  boundary_ = false;
  const size_t n = data.size();

  size_t i = std::min(pre_, n);
  pre_ -= i;
  count_ += i;
  if (i == n) return n;

  // Locals let the compiler keep the state in registers: a store through
  // a member uint8_t could alias anything.
  const uint8_t* p = data.data();
  const uint64_t* out = t_.out.data();
  const uint64_t* mod = t_.mod.data();
  const int shift = t_.pol_shift;
  std::array<uint8_t, kWindowSize> window = window_;
  size_t wpos = wpos_;
  uint64_t digest = digest_;
  size_t count = count_;
  const size_t end = i + std::min(n - i, max_size_ - count);

  bool cut = false;
  for (; i < end; ++i) {
    const uint8_t b = p[i];
    digest ^= out[window[wpos]];
    window[wpos] = b;
    wpos = (wpos + 1) % kWindowSize;
    digest = ((digest << 8) | b) ^ mod[(digest >> shift) & 0xff];
    ++count;
    if ((digest & kSplitMask) == 0 && count >= min_size_) {
      cut = true;
      ++i;
      break;
    }
  }
  if (count == max_size_) cut = true;

  if (cut) {
    cut_fp_ = digest;
    boundary_ = true;
    Reset();
  } else {
    window_ = window;
    wpos_ = wpos;
    digest_ = digest;
    count_ = count;
  }
  return i;
}

}  // namespace stash
