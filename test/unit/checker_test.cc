// Checker: small repositories built in a temp folder, then damaged in the
// ways restic's check catches; each finding must name what is damaged.
#include <catch2/catch.hpp>

#include <algorithm>

#include "crypto/random.h"
#include "engine/checker.h"
#include "storage/backends/local_backend.h"
#include "test/unit/test_util.h"

using namespace stash;
using stash::testing::TempDir;

namespace {

Node FileNode(const std::string& name, std::optional<std::vector<Id>> content) {
  Node n;
  n.name = name;
  n.type = NodeType::kFile;
  n.mode = 0644;
  n.content = std::move(content);
  return n;
}

Node DirNode(const std::string& name, std::optional<Id> subtree) {
  Node n;
  n.name = name;
  n.type = NodeType::kDir;
  n.mode = gomode::kDir | 0755;
  n.subtree = subtree;
  return n;
}

// A repository with one snapshot: /a.txt (two random blobs), /sub/b (one
// compressible blob), /sub/empty, /sub/link. Small packs, so data blobs
// land in several packs.
struct Fixture {
  explicit Fixture(int version) {
    InitOptions o;
    o.version = version;
    o.chunker_polynomial = 0x3DA3358B4DC173;
    o.kdf = {1024, 8, 1};
    auto r = Repository::Init(std::make_unique<LocalBackend>(dir.path), "pw", o);
    REQUIRE(r.ok());
    repo = std::move(*r);
    repo->set_pack_size(2000);
    Bytes b1 = RandomBytes(2500), b2 = RandomBytes(2600), b3(4000, 'z');
    for (const Bytes* b : {&b1, &b2, &b3}) data.push_back(Save(BlobType::kData, *b));
    Node link;
    link.name = "link";
    link.type = NodeType::kSymlink;
    link.linktarget = "a.txt";
    Tree sub{{FileNode("b", std::vector<Id>{data[2]}), FileNode("empty", std::vector<Id>{}), link}};
    SortTree(sub);
    subtree = SaveTree(sub);
    root = SaveTree(Tree{{FileNode("a.txt", std::vector<Id>{data[0], data[1]}),
                          DirNode("sub", subtree)}});
    snapshot = SaveSnapshot(root);
  }

  Id Save(BlobType type, ByteView bytes) {
    Id id = Sha256(bytes);
    REQUIRE(repo->SaveBlob(type, id, bytes).ok());
    return id;
  }
  Id SaveTree(const Tree& tree) {
    auto id = repo->SaveTree(tree);
    REQUIRE(id.ok());
    return *id;
  }
  Id SaveSnapshot(const Id& tree) {
    REQUIRE(repo->Flush().ok());
    Snapshot s;
    s.tree = tree;
    s.paths = {"/"};
    s.hostname = "h";
    auto id = repo->SaveSnapshot(s);
    REQUIRE(id.ok());
    return *id;
  }

  // The pack holding a blob, from the index files.
  Id PackOf(const Id& blob) {
    for (const auto& [idx, file] : IndexFiles()) {
      for (const auto& p : file.packs) {
        for (const auto& b : p.blobs) {
          if (b.id == blob) return p.id;
        }
      }
    }
    FAIL("blob not indexed");
    return {};
  }
  std::vector<std::pair<Id, IndexFile>> IndexFiles() {
    auto files = repo->LoadIndexFiles();
    REQUIRE(files.ok());
    return *files;
  }
  // Replaces every index file by `files`.
  void WriteIndexes(const std::vector<IndexFile>& files) {
    for (const auto& [id, f] : IndexFiles()) Remove(FileType::kIndex, id.Hex());
    for (const auto& f : files) REQUIRE(repo->SaveFile(FileType::kIndex, AsBytes(EncodeIndexFile(f))).ok());
  }

  Bytes Read(FileType type, const std::string& name) {
    auto b = repo->backend().Read(type, name);
    REQUIRE(b.ok());
    return *b;
  }
  void Remove(FileType type, const std::string& name) {
    REQUIRE(repo->backend().Remove(type, name).ok());
  }
  void Write(FileType type, const std::string& name, ByteView bytes) {
    (void)repo->backend().Remove(type, name);
    REQUIRE(repo->backend().Write(type, name, bytes).ok());
  }
  void Flip(FileType type, const Id& id, long offset) {
    Bytes b = Read(type, id.Hex());
    b[offset < 0 ? b.size() + offset : offset] ^= 0x40;
    Write(type, id.Hex(), b);
  }

  TempDir dir;
  std::unique_ptr<Repository> repo;
  std::vector<Id> data;
  Id subtree, root, snapshot;
};

// Every phase, reading all packs.
CheckFindings CheckAll(Repository& repo, bool read_data = true) {
  Checker c(repo);
  CheckFindings all = c.LoadIndex();
  if (!all.errors.empty()) return all;
  all.Append(c.CheckPacks());
  all.Append(c.CheckStructure());
  if (read_data) all.Append(c.ReadPacks(c.SelectPacks({}, 1), 2));
  return all;
}

// Some finding mentions every one of `words`.
bool Mentions(const std::vector<std::string>& lines, std::initializer_list<std::string> words) {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
    return std::all_of(words.begin(), words.end(),
                       [&](const std::string& w) { return l.find(w) != std::string::npos; });
  });
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace

TEST_CASE("a clean repository passes every phase") {
  for (int version : {1, 2}) {
    Fixture f(version);
    Checker c(*f.repo);
    auto index = c.LoadIndex();
    CHECK(index.errors.empty());
    CHECK(index.notes.empty());
    CHECK(c.PackCount() >= 4);
    auto packs = c.CheckPacks();
    CHECK(packs.errors.empty());
    CHECK(packs.notes.empty());
    CHECK(c.CheckStructure().errors.empty());
    CHECK(c.UnusedBlobs().empty());
    auto read = c.ReadPacks(c.SelectPacks({}, 1), 3);
    INFO(Join(read.errors));
    CHECK(read.errors.empty());
  }
}

TEST_CASE("--read-data-subset values, as restic 0.14 parses them") {
  using Kind = ReadDataSubset::Kind;
  auto group = ParseReadDataSubset("2/5");
  REQUIRE(group.ok());
  CHECK(group->kind == Kind::kGroup);
  CHECK((group->group == 2 && group->groups == 5));
  CHECK(ParseReadDataSubset("12.5%")->percent == 12.5);
  CHECK(ParseReadDataSubset("100%")->kind == Kind::kPercent);
  CHECK(ParseReadDataSubset("2k")->bytes == 2048);
  CHECK(ParseReadDataSubset("3M")->bytes == 3u << 20);
  CHECK(ParseReadDataSubset("1G")->bytes == 1u << 30);
  CHECK(ParseReadDataSubset("700b")->bytes == 700);
  for (const char* bad : {"5", "1/2/3", "", "x", "1/", "k", "%", "abc%", "1.5/2"}) {
    INFO(bad);
    CHECK(ParseReadDataSubset(bad).error().message().find("has invalid value") != std::string::npos);
  }
  CHECK(ParseReadDataSubset("0/2").error().message().find("n <= t") != std::string::npos);
  CHECK(ParseReadDataSubset("3/2").error().message().find("n <= t") != std::string::npos);
  CHECK(ParseReadDataSubset("1/257").error().message().find("at most 256") != std::string::npos);
  CHECK(ParseReadDataSubset("0%").error().message().find("above 0.0%") != std::string::npos);
  CHECK(ParseReadDataSubset("100.1%").error().message().find("above 0.0%") != std::string::npos);
  CHECK(ParseReadDataSubset("0k").error().message().find("must be above 0") != std::string::npos);
  CHECK(ParseReadDataSubset("-5m").error().message().find("must be above 0") != std::string::npos);
}

TEST_CASE("subsets: n/t groups cover every pack once; random subsets take at least one") {
  Fixture f(2);
  Checker c(*f.repo);
  REQUIRE(c.LoadIndex().errors.empty());
  auto all = c.SelectPacks({}, 1);
  REQUIRE(all.size() == c.PackCount());
  for (uint32_t groups : {1u, 2u, 3u, 256u}) {
    std::vector<Id> seen;
    for (uint32_t g = 1; g <= groups; ++g) {
      for (const Id& id : c.SelectPacks(*ParseReadDataSubset(std::to_string(g) + "/" + std::to_string(groups)), 1)) {
        CHECK(id.bytes[0] % groups == g - 1);
        seen.push_back(id);
      }
    }
    std::sort(seen.begin(), seen.end());
    CHECK(seen == all);
  }
  CHECK(c.SelectPacks(*ParseReadDataSubset("0.1%"), 7).size() == 1);
  CHECK(c.SelectPacks(*ParseReadDataSubset("100%"), 7) == all);
  CHECK(c.SelectPacks(*ParseReadDataSubset("1b"), 7).size() == 1);
  CHECK(c.SelectPacks(*ParseReadDataSubset("1T"), 7) == all);
}

TEST_CASE("damaged packs are found and named") {
  Fixture f(GENERATE(1, 2));
  Id pack = f.PackOf(f.data[0]);
  std::string name = pack.Hex();

  SECTION("a flipped byte inside a blob") {
    f.Flip(FileType::kPack, pack, 40);
    auto found = CheckAll(*f.repo);
    INFO(Join(found.errors));
    CHECK(Mentions(found.errors, {name, "content does not match its name"}));
    CHECK(Mentions(found.errors, {name, f.data[0].Hex(), "ciphertext verification failed"}));
    CHECK(!CheckAll(*f.repo, false).errors.size());  // only reading the data shows it
  }
  SECTION("a flipped byte in the pack header") {
    f.Flip(FileType::kPack, pack, -10);
    auto found = CheckAll(*f.repo);
    CHECK(Mentions(found.errors, {name, "pack header"}));
  }
  SECTION("a truncated pack") {
    Bytes b = f.Read(FileType::kPack, name);
    b.resize(b.size() / 2);
    f.Write(FileType::kPack, name, b);
    auto found = CheckAll(*f.repo, false);
    CHECK(Mentions(found.errors, {name, "unexpected file size"}));
  }
  SECTION("a missing data pack") {
    f.Remove(FileType::kPack, name);
    auto found = CheckAll(*f.repo);
    CHECK(Mentions(found.errors, {name, "does not exist"}));
    CHECK(Mentions(found.errors, {name, "failed to download"}));
  }
  SECTION("a missing tree pack") {
    f.Remove(FileType::kPack, f.PackOf(f.root).Hex());
    auto found = CheckAll(*f.repo, false);
    CHECK(Mentions(found.errors, {"tree " + f.root.Hex(), f.snapshot.Hex()}));
  }
  SECTION("a copy of a pack under a name no index knows is only a note") {
    Id stray = Sha256(AsBytes("stray"));
    f.Write(FileType::kPack, stray.Hex(), f.Read(FileType::kPack, name));
    auto found = CheckAll(*f.repo);
    CHECK(found.errors.empty());
    CHECK(Mentions(found.notes, {stray.Hex(), "not referenced in any index"}));
  }
  SECTION("a blob whose content does not hash to its id") {
    PackWriter w(f.repo->master_key());
    Id claimed = Sha256(AsBytes("claimed"));
    REQUIRE(w.Add(BlobType::kData, claimed, AsBytes("something else"), 0).ok());
    auto file = w.Finish();
    REQUIRE(file.ok());
    IndexedPack p{file->id, file->blobs};
    Bytes bytes(file->bytes().begin(), file->bytes().end());
    f.Write(FileType::kPack, p.id.Hex(), bytes);
    IndexFile extra;
    extra.packs.push_back(p);
    REQUIRE(f.repo->SaveFile(FileType::kIndex, AsBytes(EncodeIndexFile(extra))).ok());
    auto found = CheckAll(*f.repo);
    CHECK(Mentions(found.errors, {p.id.Hex(), claimed.Hex(), "does not match its id"}));
  }
}

TEST_CASE("damaged and inconsistent index files") {
  Fixture f(GENERATE(1, 2));
  auto files = f.IndexFiles();
  REQUIRE(files.size() == 1);
  const Id index_id = files[0].first;
  IndexFile index = files[0].second;

  SECTION("a flipped byte stops the check at the index phase, naming the file") {
    f.Flip(FileType::kIndex, index_id, 60);
    Checker c(*f.repo);
    CHECK(Mentions(c.LoadIndex().errors, {"index/" + index_id.Hex()}));
  }
  SECTION("a missing index: every tree is missing, every pack orphaned") {
    f.Remove(FileType::kIndex, index_id.Hex());
    auto found = CheckAll(*f.repo);
    CHECK(Mentions(found.errors, {"tree " + f.root.Hex(), "not found in index"}));
    CHECK(Mentions(found.notes, {"not referenced in any index"}));
  }
  SECTION("a tree blob left out of the index") {
    Id tree_pack;
    for (auto& p : index.packs) {
      auto gone = std::erase_if(p.blobs, [&](const PackedBlob& b) { return b.id == f.subtree; });
      if (gone) tree_pack = p.id;
    }
    f.WriteIndexes({index});
    auto found = CheckAll(*f.repo);
    INFO(Join(found.errors));
    CHECK(Mentions(found.errors, {"tree " + f.subtree.Hex(), "not found in index", "dir \"sub\""}));
    CHECK(Mentions(found.errors, {tree_pack.Hex(), f.subtree.Hex(), "not contained in index"}));
  }
  SECTION("a data blob left out of the index") {
    for (auto& p : index.packs) {
      std::erase_if(p.blobs, [&](const PackedBlob& b) { return b.id == f.data[2]; });
    }
    f.WriteIndexes({index});
    auto found = CheckAll(*f.repo, false);
    CHECK(Mentions(found.errors, {"tree " + f.subtree.Hex(), "file \"b\"", f.data[2].Hex()}));
  }
  SECTION("an entry at the wrong offset leaves a gap") {
    index.packs[0].blobs[0].offset += 1;
    f.WriteIndexes({index});
    auto found = CheckAll(*f.repo);
    CHECK(Mentions(found.errors, {index.packs[0].id.Hex(), "gaps / overlapping"}));
    CHECK(Mentions(found.errors, {index.packs[0].id.Hex(), "not contained in index or position"}));
  }
  SECTION("the same pack in two index files is only a note") {
    f.WriteIndexes({index, index});
    auto found = CheckAll(*f.repo);
    CHECK(found.errors.empty());
    CHECK(Mentions(found.notes, {"contained in several indexes"}));
  }
  SECTION("the old array format is a note") {
    std::string json = EncodeIndexFile(index);
    json = "[" + json.substr(json.find("\"packs\":[") + 9);  // {"packs":[...]}\n -> [...]
    json.resize(json.rfind('}'));
    f.Remove(FileType::kIndex, index_id.Hex());
    REQUIRE(f.repo->SaveFile(FileType::kIndex, AsBytes(json)).ok());
    auto found = CheckAll(*f.repo);
    CHECK(found.errors.empty());
    CHECK(Mentions(found.notes, {"has old format"}));
  }
}

TEST_CASE("snapshots, trees and nodes") {
  Fixture f(2);
  SECTION("an unreadable snapshot is named") {
    f.Flip(FileType::kSnapshot, f.snapshot, 30);
    CHECK(Mentions(CheckAll(*f.repo).errors, {"snapshots/" + f.snapshot.Hex()}));
  }
  SECTION("node rules from restic's checkTree") {
    Id missing = Sha256(AsBytes("not stored"));
    Tree bad{{FileNode("", std::vector<Id>{}), FileNode("absent", std::vector<Id>{missing}),
              FileNode("nil", std::nullopt), FileNode("zero", std::vector<Id>{Id{}}),
              DirNode("nosub", std::nullopt), DirNode("zerosub", Id{})}};
    Id tree = f.SaveTree(bad);
    f.SaveSnapshot(tree);
    auto found = CheckAll(*f.repo);
    std::string t = "tree " + tree.Hex() + ": ";
    INFO(Join(found.errors));
    CHECK(Mentions(found.errors, {t + "node with empty name"}));
    CHECK(Mentions(found.errors, {t + "file \"absent\" blob " + missing.Hex() + " not found in index"}));
    CHECK(Mentions(found.errors, {t + "file \"nil\" has nil blob list"}));
    CHECK(Mentions(found.errors, {t + "file \"zero\" blob 0 has null ID"}));
    CHECK(Mentions(found.errors, {t + "dir node \"nosub\" has no subtree"}));
    CHECK(Mentions(found.errors, {t + "dir node \"zerosub\" subtree id is null"}));
    CHECK(found.errors.size() == 6);
  }
  SECTION("a tree met again deeper down, after it was checked, is skipped") {
    // /a is the fixture's sub tree, and so is /b/c. The walk checks /a's
    // tree with /b's, and meets it again from /b: a round of nothing new.
    Id b = f.SaveTree(Tree{{DirNode("c", f.subtree)}});
    Id top = f.SaveTree(Tree{{DirNode("a", f.subtree), DirNode("b", b)}});
    f.SaveSnapshot(top);
    auto found = CheckAll(*f.repo);
    INFO(Join(found.errors));
    CHECK(found.errors.empty());
  }
  SECTION("many trees, more than one round, each checked once") {
    Tree wide;
    for (int i = 0; i < 300; ++i) {
      Id leaf = f.SaveTree(Tree{{FileNode("f" + std::to_string(i), std::vector<Id>{f.data[0]})}});
      wide.nodes.push_back(DirNode("d" + std::to_string(i), leaf));
    }
    SortTree(wide);
    Id missing = Sha256(AsBytes("no such tree"));
    wide.nodes.push_back(DirNode("zz-missing", missing));
    f.SaveSnapshot(f.SaveTree(wide));
    auto found = CheckAll(*f.repo);
    INFO(Join(found.errors));
    REQUIRE(found.errors.size() == 1);
    CHECK(Mentions(found.errors, {"tree " + missing.Hex(), "not found in index", "dir \"zz-missing\""}));
  }
  SECTION("blobs no snapshot uses are reported, not counted as errors") {
    Id extra = f.Save(BlobType::kData, AsBytes("unused"));
    REQUIRE(f.repo->Flush().ok());
    Checker c(*f.repo);
    REQUIRE(c.LoadIndex().errors.empty());
    CHECK(c.CheckStructure().errors.empty());
    CHECK(c.UnusedBlobs() == std::vector<std::string>{"data " + extra.Hex()});
  }
}
