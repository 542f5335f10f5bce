// GF(2)[X] arithmetic for the chunker polynomial (docs/repository-format.md, 8.1).
#include "engine/polynomial.h"

#include <bit>

#include "crypto/random.h"

namespace stash {
namespace {

// x mod d by long division; d must be non-zero.
Polynomial Mod(Polynomial x, Polynomial d) {
  const int dd = PolynomialDegree(d);
  for (int dx = PolynomialDegree(x); dx >= dd; dx = PolynomialDegree(x)) {
    x ^= d << (dx - dd);
  }
  return x;
}

// a * b mod m by shift-and-add. Keeping every intermediate reduced below
// deg(m) means nothing overflows 64 bits, so no 128-bit product is needed.
Polynomial MulMod(Polynomial a, Polynomial b, Polynomial m) {
  const int dm = PolynomialDegree(m);
  const Polynomial top = Polynomial{1} << dm;
  a = Mod(a, m);
  Polynomial r = 0;
  for (int i = PolynomialDegree(b); i >= 0; --i) {
    r <<= 1;  // deg(r) < dm <= 63, so this cannot lose a bit
    if (r & top) r ^= m;
    if ((b >> i) & 1) r ^= a;
  }
  return r;
}

Polynomial Gcd(Polynomial a, Polynomial b) {
  while (b != 0) {
    Polynomial r = Mod(a, b);
    a = b;
    b = r;
  }
  return a;
}

// X^(2^i) + X mod f: the polynomial whose gcd with f reveals factors of
// degree dividing i (Ben-Or).
Polynomial FrobeniusMinusX(int i, Polynomial f) {
  Polynomial r = Mod(2, f);  // X
  for (int k = 0; k < i; ++k) r = MulMod(r, r, f);
  return Mod(r ^ 2, f);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

int PolynomialDegree(Polynomial p) { return 63 - std::countl_zero(p); }

bool PolynomialIrreducible(Polynomial p) {
  // Constants are units, not irreducible. (Upstream's loop would accept
  // them vacuously, but no chunker can use one.)
  const int deg = PolynomialDegree(p);
  if (deg < 1) return false;
  for (int i = 1; i <= deg / 2; ++i) {
    if (Gcd(p, FrobeniusMinusX(i, p)) != 1) return false;
  }
  return true;
}

Polynomial RandomPolynomial() {
  // About one in 53 such candidates is irreducible, so this ends quickly.
  for (;;) {
    uint8_t buf[8];
    RandomBytes(buf);
    uint64_t f = 0;
    for (int i = 7; i >= 0; --i) f = (f << 8) | buf[i];  // little-endian
    f &= (uint64_t{1} << 54) - 1;
    f |= (uint64_t{1} << 53) | 1;
    if (PolynomialIrreducible(f)) return f;
  }
}

std::string PolynomialToHex(Polynomial p) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[p & 0xf]);
    p >>= 4;
  } while (p != 0);
  return out;
}

std::optional<Polynomial> PolynomialFromHex(std::string_view hex) {
  if (hex.empty() || hex.size() > 16) return std::nullopt;
  Polynomial p = 0;
  for (char c : hex) {
    int v = HexValue(c);
    if (v < 0) return std::nullopt;
    p = (p << 4) | static_cast<Polynomial>(v);
  }
  return p;
}

}  // namespace stash
