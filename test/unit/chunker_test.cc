// Chunker and polynomial tests against the vectors of docs/repository-format.md, 8.6.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "crypto/id.h"
#include "engine/chunker.h"
#include "engine/polynomial.h"

namespace stash {
namespace {

constexpr Polynomial kResticPol = 0x251d7b13efccd7;    // made by restic init
constexpr Polynomial kUpstreamPol = 0x3DA3358B4DC173;  // chunker_test.go

struct ChunkInfo {
  size_t length;
  uint64_t cut;
  std::string id;
  bool operator==(const ChunkInfo&) const = default;
};

std::ostream& operator<<(std::ostream& os, const ChunkInfo& c) {
  char cut[17];
  std::snprintf(cut, sizeof cut, "%016llx",
                static_cast<unsigned long long>(c.cut));
  return os << "{" << c.length << " " << cut << " " << c.id << "}";
}

// D6: SHA256(uint64_le(i)) for i = 0..196607, 6 MiB that restic chunked.
const Bytes& D6() {
  static const Bytes data = [] {
    Bytes d;
    d.reserve(196608 * 32);
    for (uint64_t i = 0; i < 196608; ++i) {
      uint8_t le[8];
      for (int k = 0; k < 8; ++k) le[k] = static_cast<uint8_t>(i >> (8 * k));
      Id h = Sha256(ByteView(le, 8));
      d.insert(d.end(), h.bytes.begin(), h.bytes.end());
    }
    return d;
  }();
  return data;
}

// Feeds `data` in pieces whose sizes come from `next_piece` and returns the
// chunks; the last entry is the EOF tail (cut = current fingerprint).
template <typename NextPiece>
std::vector<ChunkInfo> ChunkPieces(ByteView data, const ChunkerTables& tables,
                                   NextPiece next_piece,
                                   size_t min = kChunkMinSize,
                                   size_t max = kChunkMaxSize) {
  Chunker c(tables, min, max);
  std::vector<ChunkInfo> chunks;
  size_t start = 0, pos = 0, bad_lengths = 0;
  while (pos < data.size()) {
    const size_t want = std::min(next_piece(), data.size() - pos);
    ByteView piece = data.subspan(pos, want);
    size_t used = 0;
    while (used < piece.size()) {
      size_t n = c.Find(piece.subspan(used));
      if (n == 0) FAIL("Find() consumed nothing");
      used += n;
      pos += n;
      // Plain compare: a Catch assertion per tiny piece would dominate.
      bad_lengths += c.CurrentLength() != (c.AtBoundary() ? 0 : pos - start);
      if (c.AtBoundary()) {
        ByteView chunk = data.subspan(start, pos - start);
        chunks.push_back({chunk.size(), c.LastCutFingerprint(),
                          Sha256(chunk).Hex()});
        start = pos;
      }
    }
  }
  CHECK(bad_lengths == 0);
  if (pos > start) {
    ByteView chunk = data.subspan(start, pos - start);
    chunks.push_back({chunk.size(), c.CurrentFingerprint(),
                      Sha256(chunk).Hex()});
  }
  return chunks;
}

std::vector<ChunkInfo> ChunkAll(ByteView data, const ChunkerTables& tables,
                                size_t min = kChunkMinSize,
                                size_t max = kChunkMaxSize) {
  return ChunkPieces(data, tables, [&] { return data.size(); }, min, max);
}

std::vector<size_t> Lengths(const std::vector<ChunkInfo>& chunks) {
  std::vector<size_t> out;
  for (const auto& c : chunks) out.push_back(c.length);
  return out;
}

Bytes PseudoRandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes out(n);
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    for (size_t k = 0; k < 8 && i + k < n; ++k) {
      out[i + k] = static_cast<uint8_t>(v >> (8 * k));
    }
  }
  return out;
}

// Random data with zero runs of 64+ bytes: a zero window has fingerprint 0,
// so cut candidates land at arbitrary offsets of the chunker's internal
// blocks, often several close together.
Bytes DataWithZeroRuns(size_t n, uint64_t seed) {
  Bytes data = PseudoRandomBytes(n, seed);
  std::mt19937_64 rng(seed);
  for (size_t pos = rng() % 4096; pos + 200 < n; pos += 64 + rng() % 40000) {
    size_t run = 64 + rng() % 130;
    std::fill_n(data.begin() + pos, run, 0);
    pos += run;
  }
  return data;
}

using Cut = std::pair<size_t, uint64_t>;  // length, fingerprint

// docs/repository-format.md 8.3-8.5 transcribed literally, one byte at a time, as the oracle.
std::vector<Cut> ReferenceCuts(ByteView data, const ChunkerTables& t,
                               size_t min, size_t max) {
  std::array<uint8_t, 64> window;
  size_t wpos = 0, count = 0, pre = 0;
  uint64_t digest = 0;
  auto slide = [&](uint8_t b) {
    uint8_t out = window[wpos];
    window[wpos] = b;
    digest ^= t.out[out];
    wpos = (wpos + 1) % 64;
    uint64_t idx = digest >> t.pol_shift;
    digest = ((digest << 8) | b) ^ t.mod[idx];
  };
  auto reset = [&] {
    window.fill(0);
    wpos = 0;
    digest = 0;
    count = 0;
    slide(1);
    pre = min - 64;
  };
  std::vector<Cut> cuts;
  reset();
  for (uint8_t b : data) {
    ++count;
    if (pre > 0) {
      --pre;
      continue;
    }
    slide(b);
    if (count < min) continue;
    if ((digest & 0xfffff) == 0 || count >= max) {
      cuts.push_back({count, digest});
      reset();
    }
  }
  if (count > 0) cuts.push_back({count, digest});
  return cuts;
}

std::vector<Cut> Cuts(const std::vector<ChunkInfo>& chunks) {
  std::vector<Cut> out;
  for (const auto& c : chunks) out.push_back({c.length, c.cut});
  return out;
}

TEST_CASE("D6 input has the documented size and hash", "[chunker]") {
  REQUIRE(D6().size() == 6291456);
  CHECK(Sha256(D6()).Hex() ==
        "ae4240603275e0d3ad01491ff959150419e617cb78eacd6866ba46cdaccd9f37");
}

TEST_CASE("D6 with restic's polynomial", "[chunker]") {
  ChunkerTables tables(kResticPol);
  std::vector<ChunkInfo> want = {
      {611431, 0x0001b95427100000,
       "68fecc408531280cd39d7e97c672925278b9023c351fa4deb3a9ac163d5680de"},
      {4201430, 0x000871d8ca500000,
       "7c360973565034e179ce43456ac52717019214402d9c70806315932c68e68cd2"},
      {1478595, 0x000fc139878cd354,
       "1bdfacf5a8d6d41579ea0d8dd669f23f756ac33303f01729d9fb289e7b7cd248"},
  };
  CHECK(ChunkAll(D6(), tables) == want);
}

TEST_CASE("D6 with the upstream test polynomial", "[chunker]") {
  ChunkerTables tables(kUpstreamPol);
  std::vector<ChunkInfo> want = {
      {1015968, 0x001051a055300000,
       "f3d509f80ced030c820556a720ed8a395ba468bf124218fde1df63139d2df0ae"},
      {1087132, 0x000e8c1a55300000,
       "a5e07d7324e2fdcc706d70f39cf41e7045abddb793548406951eae3fbb7260f4"},
      {693439, 0x000c0ae224600000,
       "10b46118bf46f7b5054ee5e19d93a6c022636835115c136c98013c2ddf7fbcbd"},
      {2344058, 0x000cb24676900000,
       "0f8c4a4ff60f6c0316c2f53f6b04ca55d9b5d68c90288ebf537374ce93a5b235"},
      {903280, 0x00029da140500000,
       "5647a39c8263e250dad1dd2b7b6cc176fdbd81fcf43be0658770d48cc5af7317"},
      {247579, 0x0000000000000001,
       "def5c1ad18b71c3e258de754a650446eba209ec9822139c51f5111153d254bd6"},
  };
  CHECK(ChunkAll(D6(), tables) == want);
}

TEST_CASE("all-zero input cuts at every MinSize", "[chunker]") {
  // A zero window has fingerprint 0, so every position past MinSize cuts.
  ChunkerTables tables(kUpstreamPol);
  Bytes zeros(4 * kChunkMinSize, 0);
  const ChunkInfo each = {
      kChunkMinSize, 0,
      "07854d2fef297a06ba81685e660c332de36d5d18d546927d30daad6d7fda1541"};
  CHECK(ChunkAll(zeros, tables) == std::vector<ChunkInfo>(4, each));
}

TEST_CASE("boundaries do not depend on how input is split", "[chunker]") {
  ChunkerTables tables(kResticPol);
  // Random data gives several mask cuts; zeros then force MinSize cuts and
  // a run of 0xff (fingerprint never zero) forces MaxSize cuts.
  Bytes data = PseudoRandomBytes(12 << 20, 1);
  data.insert(data.end(), 3 * kChunkMinSize + 100, 0);
  data.insert(data.end(), 2 * kChunkMaxSize + 1234, 0xff);
  const auto whole = ChunkAll(data, tables);
  REQUIRE(whole.size() > 8);

  SECTION("64 KiB pieces") {
    CHECK(ChunkPieces(data, tables, [] { return size_t{64 << 10}; }) == whole);
  }
  SECTION("7-byte pieces") {
    CHECK(ChunkPieces(data, tables, [] { return size_t{7}; }) == whole);
  }
  SECTION("random pieces") {
    std::mt19937 rng(42);
    std::uniform_int_distribution<size_t> size(1, 3 << 20);
    CHECK(ChunkPieces(data, tables, [&] { return size(rng); }) == whole);
  }
  SECTION("1-byte pieces around the first cuts") {
    // Byte-at-a-time over all 20 MiB is slow under sanitizers; a 3 MiB
    // prefix still covers a mask cut and the start of the next chunk.
    ByteView prefix = ByteView(data).first(3 << 20);
    CHECK(ChunkPieces(prefix, tables, [] { return size_t{1}; }) ==
          ChunkAll(prefix, tables));
  }
}

TEST_CASE("matches a literal byte-at-a-time transcription of the algorithm", "[chunker]") {
  ChunkerTables tables(kUpstreamPol);
  struct Case {
    size_t min, max;
  };
  for (Case c : {Case{kChunkMinSize, kChunkMaxSize}, Case{64, 64 << 10},
                 Case{4096, 100000}, Case{65, 70}}) {
    CAPTURE(c.min, c.max);
    Bytes data = DataWithZeroRuns(6 << 20, c.min);
    const auto want = ReferenceCuts(data, tables, c.min, c.max);
    REQUIRE(want.size() > 5);
    CHECK(Cuts(ChunkAll(data, tables, c.min, c.max)) == want);
    std::mt19937 rng(c.max);
    std::uniform_int_distribution<size_t> size(1, 200000);
    CHECK(Cuts(ChunkPieces(data, tables, [&] { return size(rng); }, c.min,
                           c.max)) == want);
  }
}

TEST_CASE("small and empty inputs", "[chunker]") {
  ChunkerTables tables(kResticPol);
  CHECK(ChunkAll(Bytes{}, tables).empty());

  Bytes tiny = ToBytes("hello");
  auto chunks = ChunkAll(tiny, tables);
  REQUIRE(chunks.size() == 1);
  CHECK(chunks[0].length == 5);
  CHECK(chunks[0].cut == 1);  // never hashed: the reset value

  Bytes zeros(kChunkMinSize - 1, 0);
  CHECK(Lengths(ChunkAll(zeros, tables)) ==
        std::vector<size_t>{kChunkMinSize - 1});

  Chunker c(tables);
  CHECK(c.Find(ByteView{}) == 0);
  CHECK_FALSE(c.AtBoundary());
  CHECK(c.CurrentLength() == 0);
}

TEST_CASE("chunk sizes stay within MinSize and MaxSize", "[chunker]") {
  ChunkerTables tables(kUpstreamPol);
  // 0xff bytes never produce a zero fingerprint, so only MaxSize cuts.
  Bytes ff(2 * kChunkMaxSize + 5, 0xff);
  CHECK(Lengths(ChunkAll(ff, tables)) ==
        std::vector<size_t>{kChunkMaxSize, kChunkMaxSize, 5});

  Bytes data = PseudoRandomBytes(40 << 20, 7);
  auto chunks = ChunkAll(data, tables);
  REQUIRE(chunks.size() > 10);
  for (size_t i = 0; i + 1 < chunks.size(); ++i) {
    CHECK(chunks[i].length >= kChunkMinSize);
    CHECK(chunks[i].length <= kChunkMaxSize);
    CHECK((chunks[i].cut & 0xfffff) == 0);
  }
}

TEST_CASE("custom boundaries", "[chunker]") {
  ChunkerTables tables(kUpstreamPol);
  Bytes data = PseudoRandomBytes(3 << 20, 3);
  auto chunks = ChunkAll(data, tables, 64, 1 << 20);
  size_t total = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (i + 1 < chunks.size()) CHECK(chunks[i].length >= 64);
    CHECK(chunks[i].length <= (1u << 20));
    total += chunks[i].length;
  }
  CHECK(total == data.size());
}

TEST_CASE("polynomial irreducibility", "[polynomial]") {
  CHECK(PolynomialIrreducible(kResticPol));
  CHECK(PolynomialIrreducible(kUpstreamPol));
  CHECK(PolynomialIrreducible(0b111));    // X^2+X+1
  CHECK(PolynomialIrreducible(0b1011));   // X^3+X+1
  CHECK(PolynomialIrreducible(0b10));     // X
  CHECK_FALSE(PolynomialIrreducible(0));
  CHECK_FALSE(PolynomialIrreducible(1));
  CHECK_FALSE(PolynomialIrreducible(0b101));  // (X+1)^2
  CHECK_FALSE(PolynomialIrreducible(0b110));  // X(X+1)
  // X^53 + 1 has the root 1.
  CHECK_FALSE(PolynomialIrreducible((uint64_t{1} << 53) | 1));
  // (X^2+X+1) * (X^3+X+1) = X^5+X^4+1, and a product of two degree-26/27
  // halves of a restic-sized polynomial.
  CHECK_FALSE(PolynomialIrreducible(0b110001));
  const uint64_t a = 0x4000003;   // X^26+X+1
  const uint64_t b = 0x8000027;   // X^27+X^5+X^2+X+1
  uint64_t product = 0;
  for (int i = 0; i < 27; ++i) {
    if ((a >> i) & 1) product ^= b << i;
  }
  CHECK(PolynomialDegree(product) == 53);
  CHECK_FALSE(PolynomialIrreducible(product));
}

TEST_CASE("polynomial degree", "[polynomial]") {
  CHECK(PolynomialDegree(0) == -1);
  CHECK(PolynomialDegree(1) == 0);
  CHECK(PolynomialDegree(kResticPol) == 53);
  CHECK(PolynomialDegree(~uint64_t{0}) == 63);
}

TEST_CASE("random polynomials are irreducible of degree 53", "[polynomial]") {
  Polynomial first = RandomPolynomial();
  bool differs = false;
  for (int i = 0; i < 5; ++i) {
    Polynomial p = RandomPolynomial();
    CHECK(PolynomialDegree(p) == 53);
    CHECK((p & 1) == 1);
    CHECK(PolynomialIrreducible(p));
    differs |= p != first;
  }
  CHECK(differs);
}

TEST_CASE("polynomial hex", "[polynomial]") {
  CHECK(PolynomialToHex(0x3702ace8e8802d) == "3702ace8e8802d");
  CHECK(PolynomialFromHex("3702ace8e8802d") == Polynomial{0x3702ace8e8802d});
  CHECK(PolynomialToHex(kUpstreamPol) == "3da3358b4dc173");
  CHECK(PolynomialFromHex("3DA3358B4DC173") == kUpstreamPol);
  CHECK(PolynomialToHex(0) == "0");
  CHECK(PolynomialToHex(~uint64_t{0}) == "ffffffffffffffff");
  CHECK(PolynomialFromHex("ffffffffffffffff") == ~uint64_t{0});
  CHECK_FALSE(PolynomialFromHex(""));
  CHECK_FALSE(PolynomialFromHex("0x3702ace8e8802d"));
  CHECK_FALSE(PolynomialFromHex("3702ace8e8802g"));
  CHECK_FALSE(PolynomialFromHex("-1"));
  CHECK_FALSE(PolynomialFromHex("10000000000000000"));  // 17 digits
}

TEST_CASE("chunker throughput", "[.bench]") {
  ChunkerTables tables(kResticPol);
  Bytes data = PseudoRandomBytes(256 << 20, 9);
  // Whole buffer, and 64 KiB pieces as a file reader might feed it.
  for (size_t piece : {data.size(), size_t{64 << 10}}) {
    Chunker c(tables);
    size_t chunks = 0;
    auto start = std::chrono::steady_clock::now();
    for (size_t pos = 0; pos < data.size(); pos += piece) {
      ByteView buf = ByteView(data).subspan(pos, piece);
      for (size_t used = 0; used < buf.size();) {
        used += c.Find(buf.subspan(used));
        chunks += c.AtBoundary();
      }
    }
    std::chrono::duration<double> secs =
        std::chrono::steady_clock::now() - start;
    std::printf("256 MiB in %zu-byte pieces -> %zu chunks: %.3f s, "
                "%.0f MiB/s\n",
                piece, chunks + 1, secs.count(), 256 / secs.count());
  }
}

}  // namespace
}  // namespace stash
