// Index files decoded as a stream of events: the same result whether the
// text comes whole, in pieces of any size, or out of a zstd frame, and the
// same fault named first that a reader of the whole document would name.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "storage/compression.h"
#include "storage/index_file.h"

using namespace stash;

namespace {

Id IdOf(const std::string& s) { return Sha256(AsBytes(s)); }
std::string Hex(const std::string& s) { return IdOf(s).Hex(); }

IndexFile Sample(size_t packs, size_t per_pack) {
  IndexFile f;
  f.supersedes = {IdOf("old-1"), IdOf("old-2")};
  for (size_t p = 0; p < packs; ++p) {
    IndexedPack pack{IdOf("pack" + std::to_string(p)), {}};
    for (size_t b = 0; b < per_pack; ++b) {
      uint32_t ul = b % 3 == 0 ? 0 : static_cast<uint32_t>(1000 + b);
      pack.blobs.push_back({b % 5 == 0 ? BlobType::kTree : BlobType::kData,
                            IdOf(std::to_string(p) + "/" + std::to_string(b)),
                            static_cast<uint32_t>(b * 100), 100, ul});
    }
    f.packs.push_back(std::move(pack));
  }
  return f;
}

// `text` handed over `piece` bytes at a time.
Result<IndexFile> DecodeInPieces(const std::string& text, size_t piece, int version) {
  size_t at = 0;
  return DecodeIndexFile(
      [&]() -> Result<ByteView> {
        size_t n = std::min(piece, text.size() - at);
        ByteView v(reinterpret_cast<const uint8_t*>(text.data()) + at, n);
        at += n;
        return v;
      },
      version);
}

bool Same(const IndexFile& a, const IndexFile& b) {
  if (a.supersedes != b.supersedes || a.old_format != b.old_format || a.packs.size() != b.packs.size()) {
    return false;
  }
  for (size_t i = 0; i < a.packs.size(); ++i) {
    const auto& x = a.packs[i];
    const auto& y = b.packs[i];
    if (x.id != y.id || x.blobs.size() != y.blobs.size()) return false;
    for (size_t j = 0; j < x.blobs.size(); ++j) {
      const auto& p = x.blobs[j];
      const auto& q = y.blobs[j];
      if (p.id != q.id || p.type != q.type || p.offset != q.offset || p.length != q.length ||
          p.uncompressed_length != q.uncompressed_length) {
        return false;
      }
    }
  }
  return true;
}

std::string ErrorOf(const std::string& text, int version = 2) {
  auto r = DecodeIndexFile(AsBytes(text), version);
  return r.ok() ? "ok" : r.error().message();
}

}  // namespace

TEST_CASE("an index file decodes the same from pieces of any size and from zstd") {
  IndexFile f = Sample(7, 40);
  std::string text = EncodeIndexFile(f);
  auto whole = DecodeIndexFile(AsBytes(text), 2);
  REQUIRE(whole.ok());
  CHECK(Same(*whole, f));
  for (size_t piece : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{64}, size_t{4095}, text.size()}) {
    auto r = DecodeInPieces(text, piece, 2);
    REQUIRE(r.ok());
    CHECK(Same(*r, f));
  }
  // Several MiB of text: many pieces of zstd's output.
  IndexFile big = Sample(40, 1250);
  std::string big_text = EncodeIndexFile(big);
  REQUIRE(big_text.size() > (4u << 20));
  Bytes z = ZstdCompress(AsBytes(big_text));
  ZstdStreamReader reader(z);
  auto r = DecodeIndexFile([&] { return reader.Next(); }, 2);
  REQUIRE(r.ok());
  CHECK(Same(*r, big));
}

TEST_CASE("an index file's faults are named as a whole-document reader names them") {
  std::string pack = Hex("p"), blob = Hex("b");
  auto blob_json = [&](const std::string& extra) {
    return "{\"id\":\"" + blob + "\",\"type\":\"data\",\"offset\":0,\"length\":100" + extra + "}";
  };
  CHECK(ErrorOf("").find("index: invalid JSON") == 0);
  CHECK(ErrorOf("\"x\"") == "index: not a JSON object or array");
  CHECK(ErrorOf("{\"packs\":5}") == "index: packs is not an array");
  CHECK(ErrorOf("{\"packs\":{}}") == "index: packs is not an array");
  CHECK(ErrorOf("{\"packs\":null}") == "ok");
  CHECK(ErrorOf("{\"packs\":[5]}") == "pack entry lacks a valid id");
  CHECK(ErrorOf("{\"packs\":[{\"id\":\"zz\"}]}") == "pack entry lacks a valid id");
  CHECK(ErrorOf("{\"packs\":[{\"id\":\"" + pack + "\",\"blobs\":7}]}") ==
        "pack " + pack + ": blobs is not an array");
  CHECK(ErrorOf("{\"packs\":[{\"id\":\"" + pack + "\",\"blobs\":[[1]]}]}") ==
        "pack " + pack + ": blob entry lacks id, type, offset or length");
  CHECK(ErrorOf("{\"packs\":[{\"id\":\"" + pack + "\",\"blobs\":[{\"type\":\"data\"}]}]}") ==
        "pack " + pack + ": blob entry lacks id, type, offset or length");
  CHECK(ErrorOf("{\"packs\":[{\"id\":\"" + pack + "\",\"blobs\":[" + blob_json(",\"offset\":-1") + "]}]}") ==
        "ok");  // the first "offset" counts
  CHECK(ErrorOf("{\"packs\":[{\"id\":\"" + pack + "\",\"blobs\":[" +
                "{\"id\":\"" + blob + "\",\"type\":\"data\",\"offset\":-1,\"length\":100}]}]}") ==
        "pack " + pack + ": blob entry lacks id, type, offset or length");
  CHECK(ErrorOf("{\"packs\":[{\"id\":\"" + pack + "\",\"blobs\":[" +
                "{\"id\":\"" + blob + "\",\"type\":\"x\",\"offset\":0,\"length\":100}]}]}") ==
        "pack " + pack + ": invalid blob type \"x\"");
  CHECK(ErrorOf("{\"packs\":[{\"id\":\"" + pack + "\",\"blobs\":[" +
                "{\"id\":\"" + blob + "\",\"type\":\"data\",\"offset\":0,\"length\":31}]}]}") ==
        "pack " + pack + ": blob " + blob + ": offset or length out of range");
  CHECK(ErrorOf("{\"packs\":[{\"id\":\"" + pack + "\",\"blobs\":[" + blob_json(",\"uncompressed_length\":5") +
                "]}]}", 1) == "pack " + pack + ": index uses feature not supported by repository version 1");
  // The order a whole-document reader checks in: supersedes before packs,
  // and invalid JSON further on before any of them.
  CHECK(ErrorOf("{\"packs\":5,\"supersedes\":[1]}") == "index: invalid supersedes entry");
  CHECK(ErrorOf("{\"packs\":5,\"supersedes\":[1]").find("index: invalid JSON") == 0);
  CHECK(ErrorOf("{\"packs\":[5],\"x\":[{\"a\":[1,{\"b\":null}]}],\"supersedes\":{}}") ==
        "pack entry lacks a valid id");
  // Unknown members are skipped, whatever they hold.
  CHECK(ErrorOf("{\"x\":{\"packs\":5},\"packs\":[{\"y\":[[],{}],\"id\":\"" + pack + "\",\"blobs\":[" +
                blob_json(",\"z\":{\"id\":1}") + "]}]}") == "ok");
  // A faulty file reads the same in pieces.
  std::string bad = "{\"packs\":[{\"id\":\"" + pack + "\",\"blobs\":[" + blob_json("") + ",{\"id\":1}]}]}";
  auto in_pieces = DecodeInPieces(bad, 3, 2);
  REQUIRE(!in_pieces.ok());
  CHECK(in_pieces.error().message() == ErrorOf(bad));
}

TEST_CASE("a piece source's error is what decoding returns") {
  int calls = 0;
  auto r = DecodeIndexFile(
      [&]() -> Result<ByteView> {
        if (calls++ == 0) return ByteView(reinterpret_cast<const uint8_t*>("{\"packs\":["), 10);
        return IOError("the backend went away");
      },
      2);
  REQUIRE(!r.ok());
  CHECK(r.error().message() == "the backend went away");
}

TEST_CASE("ZstdStreamReader hands out concatenated frames in pieces and names broken input") {
  std::string a(300000, 'a'), b = "and then some more";
  Bytes z = ZstdCompress(AsBytes(a));
  Bytes zb = ZstdCompress(AsBytes(b));
  z.insert(z.end(), zb.begin(), zb.end());
  auto read_all = [](ByteView data) -> Result<std::string> {
    ZstdStreamReader reader(data);
    std::string out;
    for (;;) {
      STASH_ASSIGN_OR_RETURN(ByteView piece, reader.Next());
      if (piece.empty()) return out;
      out.append(reinterpret_cast<const char*>(piece.data()), piece.size());
    }
  };
  auto all = read_all(z);
  REQUIRE(all.ok());
  CHECK(*all == a + b);
  CHECK(read_all(ByteView(z).subspan(0, z.size() - 3)).error().message() == "zstd: truncated frame");
  CHECK(read_all(Bytes{}).error().message() == "zstd: truncated frame");
  CHECK(read_all(AsBytes("not zstd at all")).error().kind() == ErrorKind::kCorrupt);
}
