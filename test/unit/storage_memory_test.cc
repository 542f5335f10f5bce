// The pieces that keep a backup's memory low: index files encoded, compressed
// and sealed without whole copies of their text.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "crypto/crypto_key.h"
#include "crypto/random.h"
#include "storage/backends/local_backend.h"
#include "storage/compression.h"
#include "storage/index.h"
#include "storage/repository.h"
#include "test/unit/test_util.h"

using namespace stash;
using stash::testing::TempDir;

namespace {

IndexFile ManyBlobs(size_t packs, size_t per_pack) {
  IndexFile f;
  f.supersedes.push_back(Sha256(AsBytes("old")));
  for (size_t p = 0; p < packs; ++p) {
    IndexedPack pack{Sha256(AsBytes("pack" + std::to_string(p))), {}};
    for (size_t b = 0; b < per_pack; ++b) {
      PackedBlob blob{b % 3 ? BlobType::kData : BlobType::kTree,
                      Sha256(AsBytes(std::to_string(p) + "/" + std::to_string(b))),
                      static_cast<uint32_t>(b * 100), 80, b % 2 ? 0u : 120u};
      pack.blobs.push_back(blob);
    }
    f.packs.push_back(std::move(pack));
  }
  return f;
}

InitOptions FastInit(int version) {
  InitOptions o;
  o.version = version;
  o.chunker_polynomial = 0x3DA3358B4DC173;
  o.kdf = {1024, 8, 1};
  return o;
}

}  // namespace

TEST_CASE("index file pieces add up to the whole encoding") {
  for (auto [packs, per_pack] : {std::pair<size_t, size_t>{0, 0}, {1, 0}, {3, 2}, {4, 500}}) {
    IndexFile f = ManyBlobs(packs, per_pack);
    std::vector<std::string> pieces;
    EncodeIndexFilePieces(f, [&](std::string_view p) { pieces.emplace_back(p); });
    std::string joined;
    for (const auto& p : pieces) joined += p;
    CHECK(joined == EncodeIndexFile(f));
    // A large file comes in many pieces, none of them near its size.
    if (per_pack == 500) {
      CHECK(pieces.size() > 10);
      for (const auto& p : pieces) CHECK(p.size() < 20000);
    }
  }
}

TEST_CASE("a zstd frame written in pieces decodes to their concatenation") {
  std::string text = EncodeIndexFile(ManyBlobs(2, 3000));
  Bytes out{7, 7};  // what was in the buffer before stays
  ZstdFrameWriter frame(out, text.size());
  for (size_t at = 0; at < text.size(); at += 5000) {
    frame.Write(AsBytes(std::string_view(text).substr(at, 5000)));
  }
  REQUIRE(frame.Finish().ok());
  REQUIRE(out.size() > 2);
  CHECK(out[0] == 7);
  CHECK(out[1] == 7);
  // The frame records its size: decoding with the size as promised works.
  auto back = ZstdDecompress(ByteView(out).subspan(2), text.size());
  REQUIRE(back.ok());
  CHECK(AsString(*back) == text);
  CHECK(out.size() < text.size() / 2);
}

TEST_CASE("a zstd frame whose pieces do not add up to the promised size fails") {
  Bytes out;
  ZstdFrameWriter frame(out, 100);
  frame.Write(AsBytes("only a few bytes"));
  CHECK(frame.Finish().error().kind() == ErrorKind::kIO);
}

TEST_CASE("sealing in place gives what Seal gives") {
  CryptoKey key = CryptoKey::Generate();
  for (size_t n : {0, 1, 100, 70000}) {
    Bytes text = RandomBytes(n);
    Bytes buf(kNonceSize, 0xee);
    buf.insert(buf.end(), text.begin(), text.end());
    SealInPlace(key, buf);
    CHECK(buf.size() == n + kCipherOverhead);
    auto opened = Open(key, buf);
    REQUIRE(opened.ok());
    CHECK(*opened == text);
    buf[kNonceSize] ^= 1;
    if (n > 0) CHECK(!Open(key, buf).ok());
  }
}

TEST_CASE("index files written by a repository read back in both formats", "[repo]") {
  for (int version : {1, 2}) {
    TempDir dir;
    auto repo = Repository::Init(std::make_unique<LocalBackend>(dir.path), "pw", FastInit(version));
    REQUIRE(repo.ok());
    (*repo)->set_pack_size(32 << 10);
    for (int i = 0; i < 3000; ++i) {
      Bytes blob = ToBytes(std::to_string(i));
      REQUIRE(*(*repo)->SaveBlob(BlobType::kData, Sha256(blob), blob));
    }
    REQUIRE((*repo)->Flush().ok());
    auto files = (*repo)->LoadIndexFiles();
    REQUIRE(files.ok());
    REQUIRE(files->size() == 1);
    size_t blobs = 0;
    for (const auto& p : (*files)[0].second.packs) blobs += p.blobs.size();
    CHECK(blobs == 3000);
  }
}
