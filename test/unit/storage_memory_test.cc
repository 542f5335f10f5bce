// The pieces that keep a backup's memory low: index files encoded, compressed
// and sealed without whole copies of their text.
#include <catch2/catch.hpp>

#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getFrameHeader
#include <zstd.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "crypto/crypto_key.h"
#include "crypto/random.h"
#include "storage/backends/local_backend.h"
#include "storage/compression.h"
#include "storage/index.h"
#include "storage/pack.h"
#include "storage/repository.h"
#include "storage/tree.h"
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
  // A small window, however large the text: writer and readers hold it.
  REQUIRE(text.size() > (size_t{1} << kFrameWriterWindowLog) * 4);
  ZSTD_frameHeader header;
  REQUIRE(ZSTD_getFrameHeader(&header, out.data() + 2, out.size() - 2) == 0);
  CHECK(header.windowSize == (uint64_t{1} << kFrameWriterWindowLog));
}

TEST_CASE("a zstd frame whose pieces do not add up to the promised size fails") {
  Bytes out;
  ZstdFrameWriter frame(out, 100);
  frame.Write(AsBytes("only a few bytes"));
  CHECK(frame.Finish().error().kind() == ErrorKind::kIO);
}

namespace {
// Text that zstd halves: words from a small vocabulary.
Bytes Words(size_t n) {
  static const char* const kWords[] = {"index", "pack", "blob", "tree", "snapshot", "lock", "key", "data"};
  std::string text;
  for (size_t i = 0; text.size() < n; i++) text += std::string(kWords[(i * 5 + i / 3) % 8]) + " ";
  text.resize(n);
  return Bytes(text.begin(), text.end());
}
}  // namespace

TEST_CASE("random bytes are judged incompressible from samples, text and small blobs are not") {
  const size_t n = 1u << 20;
  CHECK(ZstdLikelyIncompressible(RandomBytes(n), 2));
  CHECK(ZstdLikelyIncompressible(RandomBytes(kIncompressibleProbeMin), 2));
  CHECK(!ZstdLikelyIncompressible(Words(n), 2));
  CHECK(!ZstdLikelyIncompressible(Bytes(n, 0), 2));
  // Under the minimum, compression is simply tried.
  CHECK(!ZstdLikelyIncompressible(RandomBytes(kIncompressibleProbeMin - 1), 2));
  // One sample in text is enough to try: random bytes with text at the end,
  // or in the middle, are compressed.
  Bytes tail = RandomBytes(n);
  Bytes words = Words(n / 8);
  std::copy(words.begin(), words.end(), tail.end() - static_cast<long>(words.size()));
  CHECK(!ZstdLikelyIncompressible(tail, 2));
  Bytes middle = RandomBytes(n);
  std::copy(words.begin(), words.end(), middle.begin() + static_cast<long>(n / 4));
  CHECK(!ZstdLikelyIncompressible(middle, 2));
}

TEST_CASE("a pack stores random blobs raw and compresses text, and both read back") {
  CryptoKey key = CryptoKey::Generate();
  TempDir dir;
  PackWriter w(key, dir.path);
  Bytes noise = RandomBytes(600000), text = Words(600000);
  REQUIRE(w.AddPlaintext(BlobType::kData, Sha256(noise), noise, 2).ok());
  REQUIRE(w.AddPlaintext(BlobType::kData, Sha256(text), text, 2).ok());
  auto file = w.Finish();
  REQUIRE(file.ok());
  ByteView bytes = file->bytes();
  auto parsed = ParsePackHeader(key, bytes, bytes.size());
  REQUIRE(parsed.ok());
  REQUIRE(parsed->size() == 2);
  CHECK(!(*parsed)[0].compressed());
  CHECK((*parsed)[0].length == noise.size() + kCipherOverhead);
  CHECK((*parsed)[1].compressed());
  CHECK((*parsed)[1].length < text.size() / 2);
  const Bytes* want[] = {&noise, &text};
  for (size_t i = 0; i < 2; i++) {
    const auto& b = (*parsed)[i];
    auto plain = Open(key, bytes.subspan(b.offset, b.length));
    REQUIRE(plain.ok());
    if (b.compressed()) plain = ZstdDecompress(*plain, b.uncompressed_length);
    REQUIRE(plain.ok());
    CHECK(*plain == *want[i]);
  }
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

namespace {

Id Numbered(uint64_t n, uint8_t kind) {
  Bytes b(9);
  for (int k = 0; k < 8; ++k) b[k] = static_cast<uint8_t>(n >> (8 * k));
  b[8] = kind;
  return Sha256(b);
}

std::vector<PackedBlob> Blobs(BlobType type, uint64_t from, uint64_t n) {
  std::vector<PackedBlob> out;
  for (uint64_t i = from; i < from + n; ++i) {
    out.push_back({type, Numbered(i, static_cast<uint8_t>(type)), static_cast<uint32_t>(i * 10), 40, 0});
  }
  return out;
}

}  // namespace

TEST_CASE("Index for a backup keeps the trees it saves by id alone") {
  Index ids(IndexDetail::kDataIdsOnly), full;
  auto loaded = Blobs(BlobType::kTree, 0, 3000);
  auto saved = Blobs(BlobType::kTree, 3000, 5000);
  auto data = Blobs(BlobType::kData, 0, 4000);
  for (Index* index : {&ids, &full}) {
    index->AddPack(Numbered(1, 9), loaded);
    index->AddNewPack(Numbered(2, 9), saved);
    index->AddNewPack(Numbered(3, 9), data);
    // A tree saved again, and one loaded before: neither counts twice.
    index->AddNewPack(Numbered(4, 9), {saved[7], loaded[5]});
    index->AddPack(Numbered(5, 9), {saved[9]});
  }
  CHECK(ids.BlobCount() == 12000);
  CHECK(full.BlobCount() == 12000);
  CHECK(ids.PackCount() == full.PackCount());
  for (const auto& b : loaded) CHECK(ids.Lookup(b.type, b.id)->blob.offset == b.offset);
  std::vector<bool> seen(12000);
  for (const auto* set : {&loaded, &saved, &data}) {
    for (const auto& b : *set) {
      CHECK(ids.Has(b.type, b.id));
      CHECK(full.Lookup(b.type, b.id).has_value());
      auto n = ids.Ordinal(b.type, b.id);
      REQUIRE(n.has_value());
      REQUIRE(*n < seen.size());
      CHECK(!seen[*n]);
      seen[*n] = true;
    }
  }
  for (const auto& b : saved) CHECK(!ids.Lookup(b.type, b.id).has_value());
  CHECK(!ids.Has(BlobType::kData, saved[0].id));
  CHECK(!ids.Has(BlobType::kTree, Numbered(99999, 1)));
  // 32 bytes a saved tree instead of 48.
  CHECK(full.MemoryBytes() - ids.MemoryBytes() >= 5000 * 16 + 4000 * 16 - 4 * 4096);
}

TEST_CASE("trees a backup saved are refused to LoadBlob until the index is read whole", "[repo]") {
  TempDir dir;
  auto repo = Repository::Init(std::make_unique<LocalBackend>(dir.path), "pw", FastInit(2));
  REQUIRE(repo.ok());
  REQUIRE((*repo)->LoadIndex(IndexDetail::kDataIdsOnly).ok());
  Tree t;
  auto tree = (*repo)->SaveTree(t);
  REQUIRE(tree.ok());
  REQUIRE((*repo)->Flush().ok());
  CHECK((*repo)->HasBlob(BlobType::kTree, *tree));
  CHECK(!*(*repo)->SaveBlob(BlobType::kTree, *tree, EncodeTree(t)));  // deduplicated
  auto refused = (*repo)->LoadTree(*tree);
  REQUIRE(!refused.ok());
  CHECK(refused.error().message().find("not loaded") != std::string::npos);
  REQUIRE((*repo)->LoadIndex().ok());
  CHECK((*repo)->LoadTree(*tree).ok());
}

TEST_CASE("the local backend stores a file copied from a descriptor, as Write would") {
  TempDir dir, scratch;
  LocalBackend b(dir.path);
  REQUIRE(b.Create().ok());
  Bytes data = RandomBytes(600000);
  std::string src = scratch.path + "/src";
  int fd = ::open(src.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  std::string name = Sha256(data).Hex();
  REQUIRE(b.WriteFromFile(FileType::kPack, name, fd, data.size()).ok());
  CHECK(*b.Read(FileType::kPack, name) == data);
  // Only the first `size` bytes count.
  std::string shorter = Sha256(AsBytes("x")).Hex();
  REQUIRE(b.WriteFromFile(FileType::kPack, shorter, fd, 1000).ok());
  CHECK(*b.Read(FileType::kPack, shorter) == Bytes(data.begin(), data.begin() + 1000));
  // The same bytes again under the name succeed, others conflict.
  CHECK(b.WriteFromFile(FileType::kPack, name, fd, data.size()).ok());
  CHECK(b.WriteFromFile(FileType::kPack, name, fd, 5000).error().kind() == ErrorKind::kConflict);
  // A file shorter than promised is an error, and leaves nothing behind.
  std::string missing = Sha256(AsBytes("y")).Hex();
  CHECK(!b.WriteFromFile(FileType::kPack, missing, fd, data.size() + 10).ok());
  CHECK(b.Stat(FileType::kPack, missing).error().kind() == ErrorKind::kNotFound);
  ::close(fd);
}

TEST_CASE("the local backend links a full pack's unnamed temporary file into place") {
  TempDir dir;
  LocalBackend b(dir.path);
  REQUIRE(b.Create().ok());
  // Packs fill in the repository's own folder, so nothing is copied.
  std::string folder = b.TemporaryFolder();
  REQUIRE(folder == dir.path + "/data");
  int fd = ::open(folder.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  Bytes data = RandomBytes(300000);
  REQUIRE(::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  struct stat temp;
  REQUIRE(::fstat(fd, &temp) == 0);
  std::string name = Sha256(data).Hex();
  REQUIRE(b.WriteFromFile(FileType::kPack, name, fd, data.size()).ok());
  struct stat stored;
  std::string path = dir.path + "/data/" + name.substr(0, 2) + "/" + name;
  REQUIRE(::stat(path.c_str(), &stored) == 0);
  CHECK(stored.st_ino == temp.st_ino);  // the same file: linked, not copied
  CHECK((stored.st_mode & 07777) == 0400);
  CHECK(*b.Read(FileType::kPack, name) == data);
  // Linked once, it is a named file: the same bytes again succeed (by
  // comparison), fewer promised bytes conflict, as for a copied file.
  CHECK(b.WriteFromFile(FileType::kPack, name, fd, data.size()).ok());
  CHECK(b.WriteFromFile(FileType::kPack, name, fd, 1000).error().kind() == ErrorKind::kConflict);
  ::close(fd);

  // An unnamed file whose size is not the promised one is copied (and then
  // found short), never linked under a name it does not match.
  fd = ::open(folder.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, data.data(), 1000) == 1000);
  std::string other = Sha256(AsBytes("z")).Hex();
  CHECK(b.WriteFromFile(FileType::kPack, other, fd, 2000).error().kind() == ErrorKind::kCorrupt);
  CHECK(b.Stat(FileType::kPack, other).error().kind() == ErrorKind::kNotFound);
  ::close(fd);
}

TEST_CASE("a local repository fills its packs in its own data folder") {
  TempDir dir;
  auto repo = Repository::Init(std::make_unique<LocalBackend>(dir.path), "pw", FastInit(2));
  REQUIRE(repo.ok());
  CHECK((*repo)->temp_dir() == dir.path + "/data");
  Bytes blob = RandomBytes(100000);
  REQUIRE(*(*repo)->SaveBlob(BlobType::kData, Sha256(blob), blob));
  REQUIRE((*repo)->Flush().ok());
  REQUIRE((*repo)->LoadIndex().ok());
  auto loaded = (*repo)->LoadBlob(BlobType::kData, Sha256(blob));
  REQUIRE(loaded.ok());
  CHECK(*loaded == blob);
  // Nothing but the 256 pack folders is left in data/.
  size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path + "/data")) {
    CHECK(e.is_directory());
    ++entries;
  }
  CHECK(entries == 256);
}

TEST_CASE("the local backend reads into a caller's buffer, reusing its memory") {
  TempDir dir;
  LocalBackend b(dir.path);
  REQUIRE(b.Create().ok());
  Bytes data = RandomBytes(200000);
  std::string name = Sha256(data).Hex();
  REQUIRE(b.Write(FileType::kPack, name, data).ok());
  Bytes buf;
  REQUIRE(b.ReadInto(FileType::kPack, name, 0, 0, buf).ok());
  CHECK(buf == data);
  const uint8_t* pages = buf.data();
  REQUIRE(b.ReadInto(FileType::kPack, name, 1000, 5000, buf).ok());
  CHECK(buf == Bytes(data.begin() + 1000, data.begin() + 6000));
  CHECK(buf.data() == pages);  // the same memory, not a fresh allocation
  // Past the end is a truncated file, as for Read.
  Status past = b.ReadInto(FileType::kPack, name, 199000, 5000, buf);
  REQUIRE(!past.ok());
  CHECK(past.error().kind() == ErrorKind::kCorrupt);
  CHECK(b.ReadInto(FileType::kPack, Sha256(AsBytes("n")).Hex(), 0, 0, buf).error().kind() ==
        ErrorKind::kNotFound);
  // Read is ReadInto into a new buffer.
  CHECK(*b.Read(FileType::kPack, name, 10, 20) == Bytes(data.begin() + 10, data.begin() + 30));
}
