// Polynomials over GF(2) for the content-defined chunker.
//
// A Polynomial is a uint64 whose bit i is the coefficient of X^i. Each
// repository stores a random irreducible polynomial of degree 53 in its
// config; the chunker cuts where a Rabin fingerprint over it hits zero.
// See docs/repository-format.md, 8.1.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stash {

using Polynomial = uint64_t;

// Degree of p (-1 for the zero polynomial).
int PolynomialDegree(Polynomial p);

// Ben-Or irreducibility test, as restic checks the config polynomial.
bool PolynomialIrreducible(Polynomial p);

// A random irreducible polynomial of degree 53, as `restic init` picks one.
Polynomial RandomPolynomial();

// Lower-case hex without prefix or leading zeros, as in the config JSON.
std::string PolynomialToHex(Polynomial p);
std::optional<Polynomial> PolynomialFromHex(std::string_view hex);

}  // namespace stash
