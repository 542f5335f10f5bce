// Packs, index files, config, key files, the local backend and Repository
// (its uploads: repository_upload_test.cc).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "crypto/random.h"
#include "storage/compression.h"
#include "storage/index.h"
#include "storage/key_file.h"
#include "storage/backends/local_backend.h"
#include "test/unit/storage_helpers.h"
#include "test/unit/test_util.h"
#include "storage/pack.h"
#include "storage/repo_config.h"
#include "storage/repository.h"

namespace fs = std::filesystem;
using namespace stash;
using stash::testing::FlipByte;
using stash::testing::TempDir;

using stash::testing::FastInit;
using stash::testing::Pattern;

TEST_CASE("pack round trip with plain and compressed blobs") {
  CryptoKey key = CryptoKey::Generate();
  PackWriter w(key);
  Bytes a = Pattern(1000, 1), b = Pattern(5000, 2);
  Bytes bz = ZstdCompress(b);
  REQUIRE(w.Add(BlobType::kData, Sha256(a), a, 0).ok());
  REQUIRE(w.Add(BlobType::kData, Sha256(b), bz, static_cast<uint32_t>(b.size())).ok());
  auto file = w.Finish();
  REQUIRE(file.ok());
  Id id = file->id;
  std::vector<PackedBlob> blobs = file->blobs;
  Bytes pack(file->bytes().begin(), file->bytes().end());
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

// Ids as a backup makes them: uniform, from the blob's content.
Id NumberedId(uint64_t i, uint8_t salt) {
  uint8_t b[9];
  for (int k = 0; k < 8; ++k) b[k] = static_cast<uint8_t>(i >> (8 * k));
  b[8] = salt;
  return Sha256(ByteView(b, sizeof b));
}

TEST_CASE("Index of many blobs: sorted arrays, first location wins, bytes per blob") {
  // Held in memory, and as by default: the data table (past kSpillAbove)
  // spilled to its file, the trees in memory.
  const size_t spill_above = GENERATE(size_t{0}, Index::kSpillAbove);
  Index idx(IndexDetail::kLocations, spill_above);
  const uint64_t data = 300000, trees = 30000;
  // Packs of 3000 blobs arrive as a backup writes them: the tail is merged
  // into the buckets many times over.
  uint64_t added = 0;
  for (uint32_t p = 0; added < data + trees; ++p) {
    std::vector<PackedBlob> blobs;
    for (uint32_t k = 0; k < 3000 && added < data + trees; ++k, ++added) {
      bool tree = added >= data;
      blobs.push_back({tree ? BlobType::kTree : BlobType::kData, NumberedId(added, tree), k * 100, 100,
                       tree ? k + 1 : 0});
    }
    idx.AddPack(NumberedId(p, 9), blobs);
  }
  REQUIRE(idx.BlobCount() == data + trees);
  // A later pack with the same blob (a duplicate) and one with it twice.
  Id dup = NumberedId(12345, 0);
  idx.AddPack(Sha256(AsBytes("later")), {{BlobType::kData, dup, 7, 77, 0}, {BlobType::kData, dup, 8, 88, 0}});
  CHECK(idx.BlobCount() == data + trees);
  CHECK(idx.PackCount() == 111);  // 110 packs and the later one
  for (uint64_t i = 0; i < data + trees; i += 7) {
    bool tree = i >= data;
    auto loc = idx.Lookup(tree ? BlobType::kTree : BlobType::kData, NumberedId(i, tree));
    REQUIRE(loc);
    CHECK(loc->pack == NumberedId(static_cast<uint32_t>(i / 3000), 9));
    CHECK(loc->blob.offset == (i % 3000) * 100);
    CHECK(loc->blob.uncompressed_length == (tree ? i % 3000 + 1 : 0));
    CHECK(!idx.Has(tree ? BlobType::kData : BlobType::kTree, NumberedId(i, tree)));
  }
  CHECK(idx.Lookup(BlobType::kData, dup)->pack == NumberedId(12345 / 3000, 9));
  // Ordinals number every blob once, data first, densely.
  std::vector<bool> seen(idx.BlobCount());
  for (uint64_t i = 0; i < data + trees; ++i) {
    bool tree = i >= data;
    auto n = idx.Ordinal(tree ? BlobType::kTree : BlobType::kData, NumberedId(i, tree));
    REQUIRE(n);
    REQUIRE(*n < idx.BlobCount());
    CHECK((*n >= data) == tree);
    CHECK(!seen[*n]);
    seen[*n] = true;
  }
  CHECK(!idx.Ordinal(BlobType::kTree, NumberedId(0, 0)));
  CHECK(!idx.Has(BlobType::kData, NumberedId(data + trees, 0)));
  // The figures docs/architecture.md quotes: 48 bytes an entry in memory,
  // 12 spilled (here 300,000 data blobs at 12 and 30,000 trees at 48),
  // plus slack.
  double per_blob = static_cast<double>(idx.MemoryBytes()) / static_cast<double>(idx.BlobCount());
  WARN("index: " << per_blob << " bytes per blob for " << idx.BlobCount() << " blobs, spill above " << spill_above);
  CHECK(Index::kEntryBytes == 48);
  CHECK(per_blob < (spill_above ? 20 : 52));
}

TEST_CASE("packs fill in unlinked temporary files") {
  CryptoKey key = CryptoKey::Generate();
  TempDir dir;
  auto names = [&] {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path)) ++n;
    return n;
  };
  PackWriter w(key, dir.path);
  Bytes a = Pattern(100000, 3), b = Pattern(7, 4);
  REQUIRE(w.AddPlaintext(BlobType::kData, Sha256(a), a, 3).ok());
  REQUIRE(w.AddPlaintext(BlobType::kData, Sha256(b), b, 3).ok());
  CHECK(names() == 0);  // no name in the folder, ever
  CHECK(w.Count() == 2);
  auto file = w.Finish();
  REQUIRE(file.ok());
  CHECK(w.Empty());
  CHECK(w.Size() == 0);
  CHECK(names() == 0);
  ByteView bytes = file->bytes();
  CHECK(file->id == Sha256(bytes));
  CHECK(bytes.size() == file->blobs[0].length + file->blobs[1].length + PackHeaderSize(file->blobs));
  auto parsed = ParsePackHeader(key, bytes, bytes.size());
  REQUIRE(parsed.ok());
  REQUIRE(parsed->size() == 2);
  CHECK((*parsed)[0].compressed());
  CHECK(!(*parsed)[1].compressed());
  // The writer starts a new file for the next pack; the first stays valid.
  REQUIRE(w.Add(BlobType::kTree, Sha256(b), b, 0).ok());
  auto second = w.Finish();
  REQUIRE(second.ok());
  CHECK(second->id != file->id);
  CHECK(file->id == Sha256(file->bytes()));
  PackFile moved = std::move(*file);
  CHECK(moved.id == Sha256(moved.bytes()));
  CHECK(w.Finish().error().kind() == ErrorKind::kInvalid);  // nothing to finish

  PackWriter nowhere(key, dir.path + "/missing");
  auto failed = nowhere.Add(BlobType::kData, Sha256(b), b, 0);
  CHECK(failed.error().kind() == ErrorKind::kIO);
  CHECK(nowhere.Discard().empty());
}

// Saves n distinct 8-byte data blobs (the numbers 0..n-1).
static void SaveCountedBlobs(Repository& repo, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    Bytes blob(8);
    for (int k = 0; k < 8; ++k) blob[k] = static_cast<uint8_t>(i >> (8 * k));
    REQUIRE(*repo.SaveBlob(BlobType::kData, Sha256(blob), blob));
  }
}

// Tiny blobs fill a pack by count long before its size: kMaxPackBlobs
// bounds what waits in memory for an upload to be indexed.
TEST_CASE("a pack is full at kMaxPackBlobs blobs, whatever its size", "[repo]") {
  TempDir dir;
  auto repo = Repository::Init(std::make_unique<LocalBackend>(dir.path), "pw", FastInit(2));
  REQUIRE(repo.ok());
  const uint64_t n = kMaxPackBlobs + 100;
  SaveCountedBlobs(**repo, n);
  REQUIRE((*repo)->Flush().ok());
  CHECK((*repo)->backend().List(FileType::kPack)->size() == 2);
  auto again = Repository::Open(std::make_unique<LocalBackend>(dir.path), "pw");
  REQUIRE(again.ok());
  REQUIRE((*again)->LoadIndex().ok());
  CHECK((*again)->index().BlobCount() == n);
}

TEST_CASE("a long backup writes index files as it goes", "[repo]") {
  TempDir dir;
  auto repo = Repository::Init(std::make_unique<LocalBackend>(dir.path), "pw", FastInit(2));
  REQUIRE(repo.ok());
  (*repo)->set_pack_size(64 << 10);
  const uint64_t n = kIndexFileBlobs + 5000;
  SaveCountedBlobs(**repo, n);
  // The first full one, written by the upload that completed it (in the
  // background: give it a moment).
  auto indexes = [&] { return (*repo)->backend().List(FileType::kIndex)->size(); };
  for (int i = 0; i < 1000 && indexes() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(indexes() == 1);
  REQUIRE((*repo)->Flush().ok());
  CHECK((*repo)->backend().List(FileType::kIndex)->size() == 2);
  auto again = Repository::Open(std::make_unique<LocalBackend>(dir.path), "pw");
  REQUIRE(again.ok());
  REQUIRE((*again)->LoadIndex().ok());
  CHECK((*again)->index().BlobCount() == n);
  Bytes last(8);
  for (int k = 0; k < 8; ++k) last[k] = static_cast<uint8_t>((n - 1) >> (8 * k));
  CHECK(*(*again)->LoadBlob(BlobType::kData, Sha256(last)) == last);
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

TEST_CASE("local backend makes the folders another tool left out, not the repository") {
  TempDir dir;
  LocalBackend b(dir.path + "/repo");
  REQUIRE(b.Create().ok());
  // rustic makes no locks/ folder; a copy may lack empty ones.
  fs::remove_all(dir.path + "/repo/locks");
  fs::remove_all(dir.path + "/repo/index");
  fs::remove_all(dir.path + "/repo/data");
  CHECK(b.List(FileType::kLock)->empty());
  Bytes data = Pattern(100, 5);
  std::string name = Sha256(data).Hex();
  for (FileType type : {FileType::kLock, FileType::kIndex, FileType::kPack}) {
    INFO(FileTypeDir(type));
    REQUIRE(b.Write(type, name, data).ok());
    CHECK(*b.Read(type, name) == data);
  }
  CHECK(fs::is_directory(dir.path + "/repo/data/" + name.substr(0, 2)));
  fs::remove_all(dir.path + "/repo/locks");
  TempDir scratch;
  int fd = ::open(scratch.path.c_str(), O_TMPFILE | O_RDWR, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  CHECK(b.WriteFromFile(FileType::kLock, name, fd, data.size()).ok());
  ::close(fd);
  CHECK(*b.Read(FileType::kLock, name) == data);

  // No repository at all stays an error, and nothing is made in its place.
  LocalBackend gone(dir.path + "/gone");
  CHECK(gone.Write(FileType::kLock, name, data).error().kind() == ErrorKind::kNotFound);
  CHECK_FALSE(fs::exists(dir.path + "/gone"));
}

TEST_CASE("Index for a backup: data blobs by id alone, trees with locations") {
  Index full, ids(IndexDetail::kDataIdsOnly);
  const uint64_t data = 200000, trees = 20000;
  uint64_t added = 0;
  for (uint32_t p = 0; added < data + trees; ++p) {
    std::vector<PackedBlob> blobs;
    for (uint32_t k = 0; k < 2000 && added < data + trees; ++k, ++added) {
      bool tree = added >= data;
      blobs.push_back({tree ? BlobType::kTree : BlobType::kData, NumberedId(added, tree), k * 10, 10, 0});
    }
    full.AddPack(NumberedId(p, 9), blobs);
    ids.AddPack(NumberedId(p, 9), blobs);
  }
  // A duplicate in a later pack is not counted twice.
  ids.AddPack(Sha256(AsBytes("later")), {{BlobType::kData, NumberedId(7, 0), 0, 10, 0}});
  REQUIRE(ids.BlobCount() == data + trees);
  CHECK(ids.detail() == IndexDetail::kDataIdsOnly);
  for (uint64_t i = 0; i < data + trees; i += 13) {
    bool tree = i >= data;
    BlobType type = tree ? BlobType::kTree : BlobType::kData;
    CHECK(ids.Has(type, NumberedId(i, tree)));
    CHECK(!ids.Has(tree ? BlobType::kData : BlobType::kTree, NumberedId(i, tree)));
    CHECK(ids.Lookup(type, NumberedId(i, tree)).has_value() == tree);
    CHECK(ids.Ordinal(type, NumberedId(i, tree)) == full.Ordinal(type, NumberedId(i, tree)));
  }
  CHECK(ids.Lookup(BlobType::kTree, NumberedId(data, 1))->blob.offset == (data % 2000) * 10);
  CHECK(!ids.Has(BlobType::kData, NumberedId(data + trees, 0)));
  // 32 bytes a data blob instead of 48.
  size_t saved = full.MemoryBytes() - ids.MemoryBytes();
  WARN("ids-only data entries save " << saved / data << " bytes per data blob");
  CHECK(saved / data >= 15);
}

TEST_CASE("a repository whose index was read for a backup refuses data reads until read whole", "[repo]") {
  TempDir dir;
  auto repo = Repository::Init(std::make_unique<LocalBackend>(dir.path), "pw", FastInit(2));
  REQUIRE(repo.ok());
  Bytes data = Pattern(1000, 3);
  REQUIRE((*repo)->SaveBlob(BlobType::kData, Sha256(data), data).ok());
  Tree t;
  auto tree = (*repo)->SaveTree(t);
  REQUIRE(tree.ok());
  REQUIRE((*repo)->Flush().ok());

  auto again = Repository::Open(std::make_unique<LocalBackend>(dir.path), "pw");
  REQUIRE(again.ok());
  REQUIRE((*again)->LoadIndex(IndexDetail::kDataIdsOnly).ok());
  CHECK((*again)->HasBlob(BlobType::kData, Sha256(data)));
  CHECK(!*(*again)->SaveBlob(BlobType::kData, Sha256(data), data));  // still deduplicated
  CHECK((*again)->LoadTree(*tree).ok());
  auto refused = (*again)->LoadBlob(BlobType::kData, Sha256(data));
  REQUIRE(!refused.ok());
  CHECK(refused.error().kind() == ErrorKind::kInvalid);
  CHECK(refused.error().message().find("not loaded") != std::string::npos);
  REQUIRE((*again)->LoadIndex().ok());
  auto loaded = (*again)->LoadBlob(BlobType::kData, Sha256(data));
  REQUIRE(loaded.ok());
  CHECK(*loaded == data);
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

TEST_CASE("snapshots load a few at a time, in the order asked, each with its outcome", "[repo]") {
  TempDir dir;
  auto repo = Repository::Init(std::make_unique<LocalBackend>(dir.path), "pw", FastInit(2));
  REQUIRE(repo.ok());
  std::vector<Id> ids;
  for (int i = 0; i < 30; ++i) {
    Snapshot s;
    s.paths = {"/x"};
    s.hostname = "h" + std::to_string(i);
    auto id = (*repo)->SaveSnapshot(s);
    REQUIRE(id.ok());
    ids.push_back(*id);
  }
  Id missing = Sha256(AsBytes("no such snapshot"));
  ids.insert(ids.begin() + 7, missing);
  FlipByte(dir.path + "/snapshots/" + ids[20].Hex(), 40);
  std::vector<std::string> seen;
  (*repo)->LoadSnapshots(ids, [&](const Id& id, Result<Snapshot>&& s) {
    if (id == missing) {
      CHECK(s.error().kind() == ErrorKind::kNotFound);
      seen.push_back("missing");
    } else if (id == ids[20]) {
      CHECK(s.error().kind() == ErrorKind::kCorrupt);
      seen.push_back("corrupt");
    } else {
      REQUIRE(s.ok());
      seen.push_back(s->hostname);
    }
  });
  REQUIRE(seen.size() == 31);
  CHECK(seen[0] == "h0");
  CHECK(seen[7] == "missing");
  CHECK(seen[8] == "h7");
  CHECK(seen[20] == "corrupt");
  CHECK(seen[30] == "h29");
  // All of them at once stops at the damaged one, naming it.
  auto all = (*repo)->LoadAllSnapshots();
  REQUIRE_FALSE(all.ok());
  CHECK(all.error().message().find(ids[20].Hex()) != std::string::npos);
}

TEST_CASE("RemoveFiles removes every file named, or says which one it could not") {
  TempDir dir;
  LocalBackend b(dir.path + "/repo");
  REQUIRE(b.Create().ok());
  std::vector<std::string> names;
  for (uint8_t i = 0; i < 20; ++i) {
    Bytes data = Pattern(50, i);
    names.push_back(Sha256(data).Hex());
    REQUIRE(b.Write(FileType::kSnapshot, names.back(), data).ok());
  }
  std::string gone = Sha256(AsBytes("never written")).Hex();
  std::vector<std::string> with_gone = names;
  with_gone.insert(with_gone.begin() + 5, gone);
  // Missing and not allowed to be: the error names it.
  Status refused = RemoveFiles(b, FileType::kSnapshot, with_gone, /*missing_ok=*/false);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().kind() == ErrorKind::kNotFound);
  CHECK(refused.error().message().find("unable to remove snapshots/" + gone) == 0);
  // Missing ones allowed: all the rest go.
  REQUIRE(RemoveFiles(b, FileType::kSnapshot, with_gone, /*missing_ok=*/true).ok());
  CHECK(b.List(FileType::kSnapshot)->empty());
  CHECK(RemoveFiles(b, FileType::kSnapshot, {}, false).ok());
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

// A store that writes in place shows another writer's upload as a file that
// grows: WriteNew must wait for it rather than call a same-bytes write a
// conflict.
class GrowingStatBackend : public LocalBackend {
 public:
  using LocalBackend::LocalBackend;
  std::vector<uint64_t> sizes;  // what the next Stat calls report, then the truth
  Result<FileInfo> Stat(FileType type, const std::string& name) override {
    auto info = LocalBackend::Stat(type, name);
    if (info.ok() && !sizes.empty()) {
      info->size = sizes.front();
      sizes.erase(sizes.begin());
    }
    return info;
  }
};

TEST_CASE("a same-bytes write waits for another writer's upload to finish growing") {
  TempDir dir;
  GrowingStatBackend b(dir.path + "/repo");
  REQUIRE(b.Create().ok());
  Bytes data = Pattern(3000, 7);
  std::string name = Sha256(data).Hex();
  REQUIRE(b.Write(FileType::kPack, name, data).ok());
  auto refused = [] { return Status(Conflict("taken")); };

  SECTION("a file that grows into ours is ours") {
    b.sizes = {0, 0, 1000, 1000, 2000};
    CHECK(WriteNew(b, FileType::kPack, name, data, refused).ok());
    CHECK(b.sizes.empty());
  }
  SECTION("a shorter file that stops growing is a conflict") {
    b.sizes = std::vector<uint64_t>(20, 1000);
    auto status = WriteNew(b, FileType::kPack, name, data, refused);
    REQUIRE(!status.ok());
    CHECK(status.error().kind() == ErrorKind::kConflict);
    CHECK(b.sizes.size() >= 10);  // gave up after a few still looks
  }
  SECTION("a longer file is a conflict at once") {
    b.sizes = {4000};
    CHECK(WriteNew(b, FileType::kPack, name, data, refused).error().kind() == ErrorKind::kConflict);
  }
}
