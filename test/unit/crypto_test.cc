#include <catch2/catch.hpp>
#include <sodium.h>

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "crypto/crypto_key.h"
#include "crypto/digest.h"
#include "crypto/encoding.h"
#include "crypto/id.h"
#include "crypto/kdf.h"
#include "crypto/random.h"

namespace stash {
namespace {

Bytes Hex(std::string_view hex) {
  auto b = HexDecode(hex);
  REQUIRE(b.has_value());
  return *b;
}

template <size_t N>
std::array<uint8_t, N> HexArray(std::string_view hex) {
  Bytes b = Hex(hex);
  REQUIRE(b.size() == N);
  std::array<uint8_t, N> a{};
  std::copy(b.begin(), b.end(), a.begin());
  return a;
}

// The AEAD vector from restic's crypto_int_test.go (docs/repository-format.md, 2.2).
CryptoKey ResticTestKey() {
  CryptoKey key;
  key.encrypt = HexArray<32>(
      "303e8687b1d7db18421bdc6bb8588ccadac4d59ee87b8ff70c44e635790cafef");
  key.mac_k = HexArray<16>("ef4d8824cb80b2bcc5fbff8a9b12a42c");
  key.mac_r = HexArray<16>("cc8d4b948ee0ebfe1d415de921d10353");
  return key;
}

constexpr std::string_view kResticSealed =
    "69fb41c62d12def4593bd71757138606338f621aeaeb39da0fe4f99233f8037a54ea"
    "63338a813bcf3f75d8c3cc75dddf8750";

}  // namespace

TEST_CASE("Poly1305-AES matches the restic/Bernstein vectors", "[crypto]") {
  struct Vector {
    const char *msg, *r, *k, *nonce, *mac;
  };
  const Vector vectors[] = {
      {"f3f6", "851fc40c3467ac0be05cc20404f3f700",
       "ec074c835580741701425b623235add6", "fb447350c4e868c52ac3275cf9d4327e",
       "f4c633c3044fc145f84f335cb81953de"},
      {"", "a0f3080000f46400d0c7e9076c834403",
       "75deaa25c09f208e1dc4ce6b5cad3fbf", "61ee09218d29b0aaed7e154a2c5509cc",
       "dd3fab2251f11ac759f0887129cc2ee7"},
      {"663cea190ffb83d89593f3f476b6bc24d7e679107ea26adb8caf6652d0656136",
       "48443d0bb0d21109c89a100b5ce2c208", "6acb5f61a7176dd320c5c1eb2edcdc74",
       "ae212a55399729595dea458bc621ff0e", "0ee1c16bb73f0f4fd19881753c01cdbe"},
      {"ab0812724a7f1e342742cbed374d94d136c6b8795d45b3819830f2c04491faf0"
       "990c62e48b8018b2c3e4a0fa3134cb67fa83e158c994d961c4cb21095c1bf9",
       "12976a08c4426d0ce8a82407c4f48207", "e1a5668a4d5b66a5f68cc5424ed5982d",
       "9ae831e743978d3a23527c7128149e3a", "5154ad0d2cb26e01274fc51148491f1b"},
  };
  int i = 0;
  for (const Vector& v : vectors) {
    CAPTURE(++i);
    CryptoKey key;
    key.mac_r = HexArray<16>(v.r);
    key.mac_k = HexArray<16>(v.k);
    const auto nonce = HexArray<16>(v.nonce);
    const auto mac = Poly1305Aes(key, nonce.data(), Hex(v.msg));
    CHECK(HexEncode(mac) == v.mac);
  }
}

TEST_CASE("Poly1305 agrees with libsodium's at every length around the block size", "[crypto]") {
  REQUIRE(sodium_init() >= 0);
  std::array<uint8_t, 32> key;
  Bytes message(70000);
  randombytes_buf(message.data(), message.size());
  std::vector<size_t> sizes;
  for (size_t n = 0; n <= 300; ++n) sizes.push_back(n);
  for (size_t n : {size_t{4095}, size_t{4096}, size_t{4097}, size_t{65536}, size_t{69999}, size_t{70000}})
    sizes.push_back(n);
  for (size_t n : sizes) {
    CAPTURE(n);
    randombytes_buf(key.data(), key.size());
    std::array<uint8_t, 16> expected;
    crypto_onetimeauth_poly1305(expected.data(), message.data(), n, key.data());
    REQUIRE(HexEncode(Poly1305(key, ByteView(message.data(), n))) == HexEncode(expected));
  }
}

TEST_CASE("Open decrypts restic's AEAD vector", "[crypto]") {
  const CryptoKey key = ResticTestKey();
  REQUIRE(key.Valid());
  auto plain = Open(key, Hex(kResticSealed));
  REQUIRE(plain.ok());
  CHECK(AsString(*plain) == "Dies ist ein Test!");
}

TEST_CASE("Open rejects a tampered restic vector", "[crypto]") {
  const CryptoKey key = ResticTestKey();
  const Bytes good = Hex(kResticSealed);
  // One byte in the nonce, the ciphertext and the tag each.
  for (size_t pos : {size_t{0}, size_t{15}, size_t{16}, size_t{20},
                     good.size() - 16, good.size() - 1}) {
    CAPTURE(pos);
    Bytes bad = good;
    bad[pos] ^= 0x01;
    auto r = Open(key, bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind() == ErrorKind::kCorrupt);
    CHECK(r.error().message() == "ciphertext verification failed");
  }
}

TEST_CASE("Seal/Open round trip", "[crypto]") {
  const CryptoKey key = CryptoKey::Generate();
  for (size_t size : {size_t{0}, size_t{1}, size_t{15}, size_t{16},
                      size_t{17}, size_t{1} << 20}) {
    CAPTURE(size);
    const Bytes plain = RandomBytes(size);
    const Bytes sealed = Seal(key, plain);
    REQUIRE(sealed.size() == size + kCipherOverhead);
    auto opened = Open(key, sealed);
    REQUIRE(opened.ok());
    CHECK(*opened == plain);
    if (size >= 16) {
      // CTR must actually hide the plaintext. A shorter message can encrypt
      // to itself by chance (1 in 256 for one byte), so only a block or more
      // is checked: there a match means the keystream was not applied.
      CHECK_FALSE(std::equal(plain.begin(), plain.end(),
                             sealed.begin() + kNonceSize));
    }
  }
}

TEST_CASE("Seal and Open with keys taking turns on one thread and on others", "[crypto]") {
  // Each thread keeps its ciphers keyed for the last key it used; a key
  // that differs in any part must be keyed anew.
  const CryptoKey a = CryptoKey::Generate();
  CryptoKey b = a;
  b.encrypt[31] ^= 1;
  CryptoKey c = a;
  c.mac_k[0] ^= 1;
  const Bytes plain = RandomBytes(100);
  const Bytes by_a = Seal(a, plain), by_b = Seal(b, plain), by_c = Seal(c, plain);
  CHECK(*Open(a, by_a) == plain);
  CHECK(*Open(b, by_b) == plain);
  CHECK(*Open(c, by_c) == plain);
  CHECK_FALSE(Open(c, by_a).ok());  // the MAC key differs
  CHECK_FALSE(Open(a, by_c).ok());
  auto wrong = Open(b, by_a);       // same MAC key: verifies, decrypts to other bytes
  REQUIRE(wrong.ok());
  CHECK(*wrong != plain);
  std::thread other([&] {
    CHECK(*Open(b, by_b) == plain);
    CHECK(*Open(a, by_a) == plain);
  });
  other.join();
  CHECK(*Open(a, by_a) == plain);
}

TEST_CASE("nonces differ, and a forked child draws its own", "[crypto]") {
  std::set<std::array<uint8_t, 16>> seen;
  for (int i = 0; i < 1000; ++i) {  // several of a thread's blocks
    std::array<uint8_t, 16> n;
    RandomNonceBytes(n);
    seen.insert(n);
  }
  CHECK(seen.size() == 1000);

  // The parent's block now holds its next nonces; a child that served from
  // a copy of it would hand out the very nonce the parent uses next.
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::array<uint8_t, 16> mine;
    RandomNonceBytes(mine);
    ssize_t ignored = ::write(fds[1], mine.data(), mine.size());
    (void)ignored;
    ::_exit(0);
  }
  std::array<uint8_t, 16> parent, child{};
  RandomNonceBytes(parent);
  REQUIRE(::read(fds[0], child.data(), child.size()) == 16);
  ::waitpid(pid, nullptr, 0);
  ::close(fds[0]);
  ::close(fds[1]);
  CHECK(child != parent);
}

TEST_CASE("Seal uses a fresh nonce each time", "[crypto]") {
  const CryptoKey key = CryptoKey::Generate();
  const Bytes plain = ToBytes("same message");
  const Bytes a = Seal(key, plain);
  const Bytes b = Seal(key, plain);
  CHECK(a != b);
  CHECK_FALSE(std::equal(a.begin(), a.begin() + kNonceSize, b.begin()));
}

TEST_CASE("SealInto seals from elsewhere and in place", "[crypto]") {
  const CryptoKey key = CryptoKey::Generate();
  const Bytes plain = RandomBytes(1000);
  Bytes out(plain.size() + kCipherOverhead);
  SealInto(key, plain, out.data());
  CHECK(*Open(key, out) == plain);
  // In place: the plaintext already sits after the nonce's room.
  Bytes buf(plain.size() + kCipherOverhead);
  std::copy(plain.begin(), plain.end(), buf.begin() + kNonceSize);
  SealInto(key, ByteView(buf.data() + kNonceSize, plain.size()), buf.data());
  CHECK_FALSE(std::equal(plain.begin(), plain.end(), buf.begin() + kNonceSize));
  CHECK(*Open(key, buf) == plain);
}

TEST_CASE("StreamSealer in pieces of any size opens as one sealed message", "[crypto]") {
  const CryptoKey key = CryptoKey::Generate();
  const CryptoKey other = CryptoKey::Generate();
  const Bytes plain = RandomBytes(300000);
  // Pieces that split AES blocks and Poly1305 blocks anywhere, an empty one
  // included, with another key's sealing on this thread between them.
  for (const size_t piece : {size_t{1}, size_t{15}, size_t{16}, size_t{17}, size_t{4099}, size_t{65536},
                             plain.size()}) {
    StreamSealer sealer(key);
    Bytes sealed(sealer.nonce().begin(), sealer.nonce().end());
    for (size_t done = 0; done < plain.size();) {
      const size_t n = std::min(piece, plain.size() - done);
      Bytes out(n);
      sealer.Update(ByteView(plain).subspan(done, n), out.data());
      sealer.Update(ByteView(), nullptr);
      sealed.insert(sealed.end(), out.begin(), out.end());
      if (done == 0) CHECK(*Open(other, Seal(other, ToBytes("between"))) == ToBytes("between"));
      done += n;
    }
    const auto tag = sealer.Finish();
    sealed.insert(sealed.end(), tag.begin(), tag.end());
    INFO("piece " << piece);
    REQUIRE(sealed.size() == plain.size() + kCipherOverhead);
    CHECK(*Open(key, sealed) == plain);
    sealed[kNonceSize + plain.size() / 2] ^= 1;
    CHECK_FALSE(Open(key, sealed).ok());
  }
}

TEST_CASE("StreamSealer seals in place and an empty message", "[crypto]") {
  const CryptoKey key = CryptoKey::Generate();
  StreamSealer empty(key);
  Bytes sealed(empty.nonce().begin(), empty.nonce().end());
  const auto tag = empty.Finish();
  sealed.insert(sealed.end(), tag.begin(), tag.end());
  CHECK(Open(key, sealed)->empty());

  const Bytes plain = RandomBytes(5000);
  Bytes buf = plain;
  StreamSealer sealer(key);
  sealer.Update(ByteView(buf).first(1000), buf.data());
  sealer.Update(ByteView(buf).subspan(1000), buf.data() + 1000);
  Bytes whole(sealer.nonce().begin(), sealer.nonce().end());
  whole.insert(whole.end(), buf.begin(), buf.end());
  const auto t = sealer.Finish();
  whole.insert(whole.end(), t.begin(), t.end());
  CHECK(*Open(key, whole) == plain);
}

TEST_CASE("SealAppend appends after existing bytes", "[crypto]") {
  const CryptoKey key = CryptoKey::Generate();
  Bytes out = ToBytes("header");
  const Bytes first = ToBytes("first blob");
  const Bytes second = RandomBytes(1000);
  SealAppend(key, first, out);
  SealAppend(key, second, out);
  REQUIRE(out.size() == 6 + first.size() + second.size() + 2 * kCipherOverhead);
  CHECK(AsString(ByteView(out).first(6)) == "header");
  const ByteView blob1 = ByteView(out).subspan(6, first.size() + kCipherOverhead);
  const ByteView blob2 = ByteView(out).subspan(6 + blob1.size());
  auto o1 = Open(key, blob1);
  auto o2 = Open(key, blob2);
  REQUIRE(o1.ok());
  REQUIRE(o2.ok());
  CHECK(*o1 == first);
  CHECK(*o2 == second);
}

TEST_CASE("Open detects tampering anywhere", "[crypto]") {
  const CryptoKey key = CryptoKey::Generate();
  const Bytes sealed = Seal(key, RandomBytes(100));
  const size_t nonce_pos = 3, ct_pos = kNonceSize + 50,
               tag_pos = sealed.size() - 5;
  for (size_t pos : {nonce_pos, ct_pos, tag_pos}) {
    CAPTURE(pos);
    Bytes bad = sealed;
    bad[pos] ^= 0x80;
    auto r = Open(key, bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind() == ErrorKind::kCorrupt);
    CHECK(r.error().message() == "ciphertext verification failed");
  }
  SECTION("wrong key") {
    auto r = Open(CryptoKey::Generate(), sealed);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind() == ErrorKind::kCorrupt);
  }
  SECTION("truncated") {
    auto r = Open(key, ByteView(sealed).first(sealed.size() - 1));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind() == ErrorKind::kCorrupt);
  }
}

TEST_CASE("OpenInPlace decrypts where the ciphertext lies, and leaves a forgery as it was",
          "[crypto]") {
  const CryptoKey key = CryptoKey::Generate();
  for (size_t size : {size_t{0}, size_t{1}, size_t{17}, size_t{1} << 20}) {
    CAPTURE(size);
    const Bytes plain = RandomBytes(size);
    Bytes sealed = Seal(key, plain);
    auto opened = OpenInPlace(key, sealed);
    REQUIRE(opened.ok());
    CHECK(opened->data() == sealed.data() + kNonceSize);
    CHECK(Bytes(opened->begin(), opened->end()) == plain);
  }
  const Bytes restic = Hex(kResticSealed);
  Bytes copy = restic;
  auto vector = OpenInPlace(ResticTestKey(), copy);
  REQUIRE(vector.ok());
  CHECK(AsString(*vector) == "Dies ist ein Test!");
  for (size_t pos : {size_t{0}, size_t{20}, restic.size() - 1}) {
    CAPTURE(pos);
    Bytes bad = restic;
    bad[pos] ^= 0x01;
    const Bytes before = bad;
    auto r = OpenInPlace(ResticTestKey(), bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message() == "ciphertext verification failed");
    CHECK(bad == before);
  }
  Bytes short_input(kCipherOverhead - 1, 1);
  CHECK_FALSE(OpenInPlace(key, short_input).ok());
}

TEST_CASE("Open rejects short input", "[crypto]") {
  const CryptoKey key = CryptoKey::Generate();
  for (size_t size : {size_t{0}, size_t{1}, size_t{16}, size_t{31}}) {
    CAPTURE(size);
    auto r = Open(key, RandomBytes(size));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind() == ErrorKind::kCorrupt);
    CHECK(r.error().message() == "ciphertext too short");
  }
  // Exactly the overhead is a valid (empty) message only if the MAC holds.
  auto r = Open(key, RandomBytes(32));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() == "ciphertext verification failed");
}

TEST_CASE("Open rejects an all-zero nonce even with a valid MAC", "[crypto]") {
  const CryptoKey key = CryptoKey::Generate();
  const uint8_t zero_nonce[kNonceSize] = {};
  // Build nonce || ct || tag by hand around the zero nonce. With the empty
  // message the ciphertext is empty, so only the MAC needs computing.
  Bytes sealed(zero_nonce, zero_nonce + kNonceSize);
  const auto tag = Poly1305Aes(key, zero_nonce, {});
  sealed.insert(sealed.end(), tag.begin(), tag.end());
  auto r = Open(key, sealed);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == ErrorKind::kCorrupt);
  CHECK(r.error().message() == "ciphertext verification failed");
}

TEST_CASE("Open refuses an invalid key", "[crypto]") {
  const CryptoKey zero;
  auto r = Open(zero, RandomBytes(64));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == ErrorKind::kCorrupt);
}

TEST_CASE("CryptoKey validity and generation", "[crypto]") {
  CHECK_FALSE(CryptoKey{}.Valid());
  CryptoKey key = CryptoKey::Generate();
  CHECK(key.Valid());
  // r must come out clamped.
  CHECK((key.mac_r[3] & 0xf0) == 0);
  CHECK((key.mac_r[7] & 0xf0) == 0);
  CHECK((key.mac_r[11] & 0xf0) == 0);
  CHECK((key.mac_r[15] & 0xf0) == 0);
  CHECK((key.mac_r[4] & 0x03) == 0);
  CHECK((key.mac_r[8] & 0x03) == 0);
  CHECK((key.mac_r[12] & 0x03) == 0);
  CHECK(key.encrypt != CryptoKey::Generate().encrypt);

  CryptoKey partial = key;
  partial.mac_k = {};
  CHECK_FALSE(partial.Valid());
  partial = key;
  partial.mac_r = {};
  CHECK_FALSE(partial.Valid());
  partial = key;
  partial.encrypt = {};
  CHECK_FALSE(partial.Valid());
}

TEST_CASE("SHA-256 known answers", "[crypto]") {
  CHECK(Sha256(ByteView{}).Hex() ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256(AsBytes("abc")).Hex() ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("Sha256Hasher equals one-shot hashing", "[crypto]") {
  const Bytes data = RandomBytes(100000);
  const Id expect = Sha256(data);
  for (size_t split : {size_t{0}, size_t{1}, size_t{63}, size_t{64},
                       size_t{65}, size_t{50000}, data.size()}) {
    CAPTURE(split);
    Sha256Hasher h;
    h.Update(ByteView(data).first(split));
    h.Update(ByteView{});
    h.Update(ByteView(data).subspan(split));
    CHECK(h.Finish() == expect);
  }
  // Finish resets the hasher for reuse.
  Sha256Hasher h;
  h.Update(AsBytes("junk"));
  (void)h.Finish();
  h.Update(AsBytes("abc"));
  CHECK(h.Finish() == Sha256(AsBytes("abc")));
}

TEST_CASE("Id hex parsing", "[crypto]") {
  const std::string hex =
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  auto id = Id::FromHex(hex);
  REQUIRE(id.has_value());
  CHECK(*id == Sha256(AsBytes("abc")));
  CHECK(id->Hex() == hex);
  CHECK(id->Short() == "ba7816bf");
  CHECK_FALSE(id->IsZero());
  CHECK(Id{}.IsZero());

  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  auto id_upper = Id::FromHex(upper);
  REQUIRE(id_upper.has_value());
  CHECK(*id_upper == *id);

  CHECK_FALSE(Id::FromHex(hex.substr(0, 63)).has_value());
  CHECK_FALSE(Id::FromHex(hex + "0").has_value());
  CHECK_FALSE(Id::FromHex(hex + "00").has_value());
  CHECK_FALSE(Id::FromHex("").has_value());
  std::string bad = hex;
  bad[10] = 'g';
  CHECK_FALSE(Id::FromHex(bad).has_value());
  bad = hex;
  bad[63] = ' ';
  CHECK_FALSE(Id::FromHex(bad).has_value());
  // Every byte value, as a first and as a last digit, is taken or refused
  // exactly as libsodium's decoder (HexDecode) takes or refuses it.
  for (int c = 0; c < 256; ++c) {
    for (size_t at : {size_t{0}, size_t{63}}) {
      bad = hex;
      bad[at] = static_cast<char>(c);
      auto ours = Id::FromHex(bad);
      auto sodium = HexDecode(bad);
      CHECK(ours.has_value() == sodium.has_value());
      if (ours && sodium) CHECK(std::equal(ours->bytes.begin(), ours->bytes.end(), sodium->begin()));
    }
  }
}

TEST_CASE("Hex encoding", "[crypto]") {
  CHECK(HexEncode(ByteView{}).empty());
  CHECK(HexEncode(Bytes{0x00, 0x01, 0xab, 0xff}) == "0001abff");
  CHECK(HexDecode("0001ABff") == Bytes{0x00, 0x01, 0xab, 0xff});
  CHECK(HexDecode("") == Bytes{});
  const Bytes data = RandomBytes(1000);
  CHECK(HexDecode(HexEncode(data)) == data);

  CHECK_FALSE(HexDecode("0").has_value());
  CHECK_FALSE(HexDecode("abc").has_value());
  CHECK_FALSE(HexDecode("zz").has_value());
  CHECK_FALSE(HexDecode("00 1").has_value());
  CHECK_FALSE(HexDecode("0x00").has_value());
  CHECK_FALSE(HexDecode(std::string_view("00\0" "0", 4)).has_value());
}

TEST_CASE("Base64 encoding", "[crypto]") {
  // RFC 4648 §10 test vectors.
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},         {"f", "Zg=="},        {"fo", "Zm8="},
      {"foo", "Zm9v"},  {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, b64] : vectors) {
    CAPTURE(plain);
    CHECK(Base64Encode(AsBytes(plain)) == b64);
    CHECK(Base64Decode(b64) == ToBytes(plain));
  }
  // Standard alphabet (+ and /), not URL-safe.
  CHECK(Base64Encode(Bytes{0xfb, 0xff, 0xbf}) == "+/+/");
  CHECK(Base64Decode("+/+/") == Bytes{0xfb, 0xff, 0xbf});
  for (size_t n = 0; n < 70; ++n) {
    const Bytes data = RandomBytes(n);
    CHECK(Base64Decode(Base64Encode(data)) == data);
  }
}

TEST_CASE("Base64 rejects invalid input", "[crypto]") {
  const char* bad[] = {
      "Zg",         // missing padding
      "Zg=",        // short padding
      "Zg===",      // extra padding
      "Zm9v=",      // padding with no remainder
      "Zm9vYg==x",  // trailing garbage
      "Zm9vYg==Zg==",  // data after padding
      "Zm9v\n",     // whitespace
      " Zm9v",      // leading whitespace
      "Zm-_",       // URL-safe alphabet
      "Zm9!",       // invalid character
      "Zh==",       // non-zero leftover bits
      "====",
      "=",
  };
  for (const char* text : bad) {
    CAPTURE(text);
    CHECK_FALSE(Base64Decode(text).has_value());
  }
  CHECK_FALSE(Base64Decode(std::string_view("Zm9v\0\0\0\0", 8)).has_value());
}

TEST_CASE("RandomBytes", "[crypto]") {
  CHECK(RandomBytes(0).empty());
  const Bytes a = RandomBytes(32), b = RandomBytes(32);
  CHECK(a.size() == 32);
  CHECK(a != b);
  std::array<uint8_t, 16> buf{};
  RandomBytes(buf);
  CHECK(buf != std::array<uint8_t, 16>{});
}

TEST_CASE("scrypt RFC 7914 vectors", "[crypto][kdf]") {
  SECTION("password/NaCl, N=1024 r=8 p=16") {
    auto out = Scrypt("password", AsBytes("NaCl"), {1024, 8, 16}, 64);
    REQUIRE(out.ok());
    CHECK(HexEncode(*out) ==
          "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
          "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
  }
  SECTION("empty password and salt, N=16 r=1 p=1") {
    auto out = Scrypt("", ByteView{}, {16, 1, 1}, 64);
    REQUIRE(out.ok());
    CHECK(HexEncode(*out) ==
          "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
          "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906");
  }
}

TEST_CASE("DeriveUserKey splits the scrypt output", "[crypto][kdf]") {
  const ScryptParams params{1024, 8, 16};
  auto key = DeriveUserKey("password", AsBytes("NaCl"), params);
  REQUIRE(key.ok());
  CHECK(HexEncode(key->encrypt) ==
        "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162");
  CHECK(HexEncode(key->mac_k) == "2eaf30d92e22a3886ff109279d9830da");
  // mac.r is c727afb94a83ee6d8360cbdfa2cc0640 before clamping.
  CHECK(HexEncode(key->mac_r) == "c727af094883ee0d8060cb0fa0cc0600");
  CHECK(key->Valid());
}

TEST_CASE("scrypt parameter validation", "[crypto][kdf]") {
  CHECK(ValidateScryptParams({}).ok());
  CHECK(ValidateScryptParams({32768, 8, 1}).ok());
  CHECK(ValidateScryptParams({2, 1, 1}).ok());
  CHECK(ValidateScryptParams({1 << 20, 8, 1}).ok());
  const ScryptParams bad[] = {
      {0, 8, 1},            {1, 8, 1},       {3, 8, 1},
      {1000, 8, 1},         {32768, 0, 1},   {32768, 8, 0},
      {uint64_t{1} << 25, 1, 1},              // N above 2^24
      {1 << 24, 8, 1},                        // 16 GiB
      {1024, 1 << 15, 1 << 15},               // r*p = 2^30
      {2, 1, (1u << 30) - 1},                 // B alone is 128 GiB
      {uint64_t{1} << 63, 8, 1},
  };
  for (const ScryptParams& p : bad) {
    CAPTURE(p.n, p.r, p.p);
    Status s = ValidateScryptParams(p);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().kind() == ErrorKind::kInvalid);
    CHECK(s.error().message().find("scrypt") != std::string::npos);
  }
  auto r = Scrypt("pw", AsBytes("salt"), {1000, 8, 1}, 64);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == ErrorKind::kInvalid);
  auto k = DeriveUserKey("pw", AsBytes("salt"), {1, 8, 1});
  REQUIRE_FALSE(k.ok());
  CHECK(k.error().kind() == ErrorKind::kInvalid);
}

TEST_CASE("Key derived from a password opens what it sealed", "[crypto][kdf]") {
  const Bytes salt = RandomBytes(64);
  const ScryptParams params{1024, 8, 1};
  auto k1 = DeriveUserKey("secret", salt, params);
  auto k2 = DeriveUserKey("secret", salt, params);
  auto wrong = DeriveUserKey("Secret", salt, params);
  REQUIRE(k1.ok());
  REQUIRE(k2.ok());
  REQUIRE(wrong.ok());
  const Bytes sealed = Seal(*k1, ToBytes("master key json"));
  auto opened = Open(*k2, sealed);
  REQUIRE(opened.ok());
  CHECK(AsString(*opened) == "master key json");
  auto denied = Open(*wrong, sealed);
  REQUIRE_FALSE(denied.ok());
  CHECK(denied.error().kind() == ErrorKind::kCorrupt);
}

TEST_CASE("upload digests of memory and of a file read in pieces", "[crypto]") {
  CHECK(HexEncode(Digest(DigestKind::kMd5, ToBytes("abc"))) == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(HexEncode(Digest(DigestKind::kSha1, ToBytes("abc"))) == "a9993e364706816aba3e25717850c26c9cd0d89d");
  const Bytes big = RandomBytes(700000);  // several pieces
  int fd = ::memfd_create("digest", 0);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, big.data(), big.size()) == static_cast<ssize_t>(big.size()));
  for (auto kind : {DigestKind::kMd5, DigestKind::kSha1}) {
    auto from_file = FileDigest(kind, fd, big.size());
    REQUIRE(from_file.ok());
    CHECK(*from_file == Digest(kind, big));
    auto prefix = FileDigest(kind, fd, 1000);
    REQUIRE(prefix.ok());
    CHECK(*prefix == Digest(kind, ByteView(big).first(1000)));
  }
  auto too_long = FileDigest(DigestKind::kMd5, fd, big.size() + 1);
  REQUIRE_FALSE(too_long.ok());
  CHECK(too_long.error().kind() == ErrorKind::kIO);
  CHECK(too_long.error().message().find("ends after 700000 bytes") != std::string::npos);
  ::close(fd);
}

}  // namespace stash
