// Packs, index files, config, key files, the local backend and Repository.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "crypto/random.h"
#include "storage/compression.h"
#include "storage/index.h"
#include "storage/key_file.h"
#include "storage/backends/local_backend.h"
#include "test/unit/test_util.h"
#include "storage/pack.h"
#include "storage/repo_config.h"
#include "storage/repository.h"

namespace fs = std::filesystem;
using namespace stash;
using stash::testing::TempDir;

namespace {

// Cheap scrypt so tests stay fast; real repositories use N = 2^15.
InitOptions FastInit(int version) {
  InitOptions o;
  o.version = version;
  o.chunker_polynomial = 0x3DA3358B4DC173;
  o.kdf = {1024, 8, 1};
  o.username = "tester";
  o.hostname = "host";
  return o;
}

Bytes Pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 7 + (i >> 9));
  return b;
}

}  // namespace

TEST_CASE("pack round trip with plain and compressed blobs") {
  CryptoKey key = CryptoKey::Generate();
  PackWriter w(key);
  Bytes a = Pattern(1000, 1), b = Pattern(5000, 2);
  Bytes bz = ZstdCompress(b);
  w.Add(BlobType::kData, Sha256(a), a, 0);
  w.Add(BlobType::kData, Sha256(b), bz, static_cast<uint32_t>(b.size()));
  Id id;
  std::vector<PackedBlob> blobs;
  Bytes pack = w.Finish(id, blobs);
  REQUIRE(id == Sha256(pack));
  REQUIRE(blobs.size() == 2);
  REQUIRE(pack.size() == blobs[0].length + blobs[1].length + PackHeaderSize(blobs));

  auto parsed = ParsePackHeader(key, pack, pack.size());
  REQUIRE(parsed.ok());
  REQUIRE(parsed->size() == 2);
  CHECK((*parsed)[0].id == Sha256(a));
  CHECK((*parsed)[1].offset == blobs[1].offset);
  CHECK((*parsed)[1].uncompressed_length == b.size());

  SECTION("a flipped header byte fails the MAC") {
    pack[pack.size() - 10] ^= 1;
    CHECK(ParsePackHeader(key, pack, pack.size()).error().kind() == ErrorKind::kCorrupt);
  }
  SECTION("a bogus header length is rejected") {
    pack[pack.size() - 1] = 0xff;
    CHECK(!ParsePackHeader(key, pack, pack.size()).ok());
  }
  SECTION("a truncated pack is rejected") {
    CHECK(!ParsePackHeader(key, ByteView(pack).subspan(0, 3), 3).ok());
  }
}

TEST_CASE("index JSON round trip and formats") {
  IndexFile f;
  IndexedPack p;
  p.id = Sha256(AsBytes("pack"));
  p.blobs.push_back({BlobType::kData, Sha256(AsBytes("a")), 0, 100, 0});
  p.blobs.push_back({BlobType::kTree, Sha256(AsBytes("b")), 100, 60, 80});
  f.packs.push_back(p);
  std::string json = EncodeIndexFile(f);
  CHECK(json.back() == '\n');
  CHECK(json.find("\"uncompressed_length\":80") != std::string::npos);

  auto back = DecodeIndexFile(AsBytes(json), 2);
  REQUIRE(back.ok());
  REQUIRE(back->packs.size() == 1);
  CHECK(back->packs[0].blobs[1].uncompressed_length == 80);
  CHECK(EncodeIndexFile(*back) == json);

  SECTION("compressed blobs are refused in a version 1 repository") {
    CHECK(DecodeIndexFile(AsBytes(json), 1).error().kind() == ErrorKind::kUnsupported);
  }
  SECTION("the old array format is read") {
    std::string old = "[{\"id\":\"" + p.id.Hex() + "\",\"blobs\":[{\"id\":\"" +
                      p.blobs[0].id.Hex() + "\",\"type\":\"data\",\"offset\":0,\"length\":100}]}]";
    auto o = DecodeIndexFile(AsBytes(old), 1);
    REQUIRE(o.ok());
    CHECK(o->old_format);
    CHECK(o->packs[0].blobs.size() == 1);
  }
  SECTION("malformed input is an error, not a crash") {
    for (const char* bad : {"", "{", "{\"packs\":5}", "{\"packs\":[{\"id\":\"zz\"}]}",
                            "{\"packs\":[{\"id\":\"" "0000000000000000000000000000000000000000000000000000000000000000"
                            "\",\"blobs\":[{\"type\":\"data\"}]}]}", "[1,2]", "\"x\""}) {
      CHECK(!DecodeIndexFile(AsBytes(bad), 2).ok());
    }
  }
}

TEST_CASE("Index lookups") {
  Index idx;
  Id pack = Sha256(AsBytes("p"));
  Id blob = Sha256(AsBytes("b"));
  idx.AddPack(pack, {{BlobType::kData, blob, 10, 50, 0}});
  CHECK(idx.Has(BlobType::kData, blob));
  CHECK(!idx.Has(BlobType::kTree, blob));
  auto loc = idx.Lookup(BlobType::kData, blob);
  REQUIRE(loc);
  CHECK(loc->pack == pack);
  CHECK(loc->blob.offset == 10);
}

TEST_CASE("config and key files") {
  RepoConfig c;
  c.version = 1;
  c.id = std::string(64, 'a');
  c.chunker_polynomial = 0x3702ace8e8802d;
  std::string json = EncodeRepoConfig(c);
  CHECK(json == "{\"version\":1,\"id\":\"" + c.id + "\",\"chunker_polynomial\":\"3702ace8e8802d\"}");
  REQUIRE(DecodeRepoConfig(AsBytes(json)).ok());
  CHECK(DecodeRepoConfig(AsBytes("{\"version\":3,\"id\":\"x\",\"chunker_polynomial\":\"1\"}"))
            .error().kind() == ErrorKind::kUnsupported);

  CryptoKey master = CryptoKey::Generate();
  auto key = NewKeyFile(master, "secret", {1024, 8, 1}, "u", "h");
  REQUIRE(key.ok());
  auto decoded = DecodeKeyFile(AsBytes(EncodeKeyFile(*key)));
  REQUIRE(decoded.ok());
  auto opened = OpenKeyFile(*decoded, "secret");
  REQUIRE(opened.ok());
  CHECK(opened->encrypt == master.encrypt);
  CHECK(OpenKeyFile(*decoded, "wrong").error().kind() == ErrorKind::kAuth);
}

TEST_CASE("local backend layout, atomic writes and ranges") {
  TempDir dir;
  LocalBackend b(dir.path + "/repo");
  REQUIRE(b.Create().ok());
  CHECK(fs::is_directory(dir.path + "/repo/data/ff"));
  Bytes data = Pattern(300, 3);
  std::string name = Sha256(data).Hex();
  REQUIRE(b.Write(FileType::kPack, name, data).ok());
  struct stat st;
  REQUIRE(::stat((dir.path + "/repo/data/" + name.substr(0, 2) + "/" + name).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0400);
  CHECK(b.Write(FileType::kPack, name, data).ok());  // the same bytes again
  CHECK(b.Write(FileType::kPack, name, Pattern(300, 4)).error().kind() == ErrorKind::kConflict);
  auto list = b.List(FileType::kPack);
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].size == 300);
  auto part = b.Read(FileType::kPack, name, 10, 20);
  REQUIRE(part.ok());
  CHECK(Bytes(data.begin() + 10, data.begin() + 30) == *part);
  CHECK(b.Read(FileType::kPack, name, 290, 20).error().kind() == ErrorKind::kCorrupt);
  CHECK(b.Read(FileType::kIndex, name).error().kind() == ErrorKind::kNotFound);
  REQUIRE(b.Remove(FileType::kPack, name).ok());
  CHECK(b.List(FileType::kPack)->empty());
  CHECK(b.Create().ok());  // no config yet: creating again is harmless
}

TEST_CASE("repository init, open, blobs, snapshots", "[repo]") {
  for (int version : {1, 2}) {
    TempDir dir;
    auto repo = Repository::Init(std::make_unique<LocalBackend>(dir.path), "pw", FastInit(version));
    REQUIRE(repo.ok());
    Bytes big = Pattern(3 << 20, 9);
    Id big_id = Sha256(big);
    CHECK(*(*repo)->SaveBlob(BlobType::kData, big_id, big));
    CHECK(!*(*repo)->SaveBlob(BlobType::kData, big_id, big));  // deduplicated
    Bytes empty;
    CHECK(*(*repo)->SaveBlob(BlobType::kData, Sha256(empty), empty));
    Tree t;
    REQUIRE((*repo)->SaveTree(t).ok());
    REQUIRE((*repo)->Flush().ok());
    Snapshot s;
    s.paths = {"/x"};
    s.tree = Sha256(EncodeTree(t));
    s.hostname = "h";
    auto sid = (*repo)->SaveSnapshot(s);
    REQUIRE(sid.ok());

    auto again = Repository::Open(std::make_unique<LocalBackend>(dir.path), "pw");
    REQUIRE(again.ok());
    CHECK((*again)->config().version == version);
    REQUIRE((*again)->LoadIndex().ok());
    auto loaded = (*again)->LoadBlob(BlobType::kData, big_id);
    INFO("version " << version << ": " << (loaded.ok() ? "" : loaded.error().message()));
    REQUIRE(loaded.ok());
    CHECK(*loaded == big);
    CHECK((*again)->LoadBlob(BlobType::kData, Sha256(empty))->empty());
    auto snaps = (*again)->LoadAllSnapshots();
    REQUIRE(snaps.ok());
    REQUIRE(snaps->size() == 1);
    CHECK((*snaps)[0].second.hostname == "h");
    CHECK((*again)->ResolvePrefix(FileType::kSnapshot, sid->Hex().substr(0, 6)).value() == *sid);
    CHECK((*again)->ResolvePrefix(FileType::kSnapshot, "0123").error().kind() == ErrorKind::kNotFound);

    auto wrong = Repository::Open(std::make_unique<LocalBackend>(dir.path), "nope");
    CHECK(wrong.error().kind() == ErrorKind::kAuth);
  }
}

TEST_CASE("opening something that is not a repository") {
  TempDir dir;
  auto r = Repository::Open(std::make_unique<LocalBackend>(dir.path + "/none"), "pw");
  CHECK(r.error().kind() == ErrorKind::kNotFound);
  CHECK(r.error().message().find("none") != std::string::npos);
}

TEST_CASE("zstd decompression limits") {
  Bytes data = Pattern(10000, 4);
  Bytes z = ZstdCompress(data);
  CHECK(*ZstdDecompress(z) == data);
  CHECK(!ZstdDecompress(z, 9999).ok());
  CHECK(!ZstdDecompress(ByteView(z).subspan(0, z.size() - 3)).ok());
  CHECK(!ZstdDecompress(AsBytes("not zstd")).ok());
  CHECK(!ZstdDecompress(Bytes{}).ok());
}
