// Restores from a damaged repository: a blob that is corrupt, cut off or
// missing from the index damages only the files that need it; each is named,
// every other file is restored exactly.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "engine/restorer.h"
#include "test/unit/engine_test_util.h"
#include "test/unit/test_util.h"

namespace fs = std::filesystem;
using namespace stash;
using namespace stash::testing;

namespace {

// Every file f10..f49 of `dir` either holds Content(i) or is named by a
// warning; returns the names of the damaged ones.
std::set<std::string> DamagedFiles(const RestoreResult& r, const std::string& dir) {
  std::set<std::string> damaged;
  for (const auto& w : r.warnings) {
    if (w.path.rfind(dir + "/", 0) == 0) damaged.insert(w.path.substr(dir.size() + 1));
  }
  for (size_t i = 0; i < 40; ++i) {
    std::string name = "f" + std::to_string(10 + i);
    INFO(name);
    if (!damaged.count(name)) CHECK(ReadFile(dir + "/" + name) == Content(i));
  }
  return damaged;
}

}  // namespace

TEST_CASE("restore: a corrupt or missing blob is a warning naming the file; the rest is restored",
          "[engine][restore]") {
  TempDir dir;
  auto repo = NewRepo(dir.path + "/repo");
  TreeMaker m(*repo);
  std::vector<Node> nodes = NumberedFiles(m, 40);
  RestoreOptions ro;
  ro.target = dir.path + "/out";
  std::string out = ro.target + "/data";

  SECTION("a corrupt blob") {
    Snapshot snap = m.Snap({m.Dir("data", nodes, At(1'000'000'000))});
    Id victim = Sha256(ToBytes(Content(25)));
    auto loc = repo->index().Lookup(BlobType::kData, victim);
    REQUIRE(loc);
    FlipByte(dir.path + "/repo/data/" + loc->pack.Hex().substr(0, 2) + "/" + loc->pack.Hex(),
             loc->blob.offset + 20);
    auto r = Restore(*repo, snap, ro);
    REQUIRE(r.ok());
    REQUIRE(r->warnings.size() == 1);
    CHECK(r->warnings[0].path == out + "/f35");
    CHECK(r->warnings[0].message.find("ciphertext verification failed") != std::string::npos);
    CHECK(r->warnings[0].message.find("data blob " + victim.Hex() + " in pack " + loc->pack.Hex()) !=
          std::string::npos);
    CHECK(DamagedFiles(*r, out) == std::set<std::string>{"f35"});
    // The damaged file has its full size and does not pass for the original.
    CHECK(fs::file_size(out + "/f35") == Content(25).size());
    CHECK((Lstat(out + "/f35").st_mode & 07777) == 0600);
    CHECK(r->summary.files == 39);
    CheckTimes(out, At(1'000'000'000));
  }
  SECTION("a truncated pack damages the files cut off, names the first blob of each") {
    Snapshot snap = m.Snap({m.Dir("data", nodes, At(1'000'000'000))});
    Id victim = Sha256(ToBytes(Content(25)));
    auto loc = repo->index().Lookup(BlobType::kData, victim);
    REQUIRE(loc);
    std::string pack = dir.path + "/repo/data/" + loc->pack.Hex().substr(0, 2) + "/" + loc->pack.Hex();
    ::chmod(pack.c_str(), 0600);
    fs::resize_file(pack, loc->blob.offset + 10);
    auto r = Restore(*repo, snap, ro);
    REQUIRE(r.ok());
    auto damaged = DamagedFiles(*r, out);
    CHECK(damaged.count("f35"));
    CHECK(damaged.size() < 40);
    for (const auto& w : r->warnings) {
      if (w.path == out + "/f35") {
        CHECK(w.message.find("data blob " + victim.Hex() + " in pack " + loc->pack.Hex()) != std::string::npos);
      }
    }
    CHECK(r->summary.files == 40 - damaged.size());
  }
  SECTION("a blob missing from the index") {
    Node ghost = m.File("ghost", {});
    Id missing = Sha256(ToBytes("never stored"));
    ghost.content = std::vector<Id>{missing};
    ghost.size = 12;
    nodes.push_back(ghost);
    Snapshot snap = m.Snap({m.Dir("data", nodes, At(1'000'000'000))});
    auto r = Restore(*repo, snap, ro);
    REQUIRE(r.ok());
    REQUIRE(r->warnings.size() == 1);
    CHECK(r->warnings[0].path == out + "/ghost");
    CHECK(r->warnings[0].message.find("data blob " + missing.Hex() + " not found in index") != std::string::npos);
    CHECK(DamagedFiles(*r, out) == std::set<std::string>{"ghost"});
    CHECK(fs::file_size(out + "/ghost") == 12);
  }
}
