// How many requests a restore makes: each tree-only pack is read once,
// whole, rather than once per folder; a damaged tree pack still names the
// tree at fault, as reading tree by tree does.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <string>

#include "engine/restorer.h"
#include "test/unit/engine_test_util.h"
#include "test/unit/test_util.h"

using namespace stash;
using namespace stash::testing;

namespace {

// A local backend that counts the reads of each pack, and fails those
// longer than `max_read`.
class CountingBackend : public LocalBackend {
 public:
  using LocalBackend::LocalBackend;
  Status ReadInto(FileType type, const std::string& name, uint64_t offset, uint64_t length,
                  Bytes& out) override {
    if (type == FileType::kPack) {
      std::lock_guard<std::mutex> lock(mu_);
      ++reads[name];
      if (length > max_read) return IOError("read of " + std::to_string(length) + " bytes refused");
    }
    return LocalBackend::ReadInto(type, name, offset, length, out);
  }
  std::map<std::string, size_t> reads;
  uint64_t max_read = UINT64_MAX;

 private:
  std::mutex mu_;
};

// Opens the repository in `repo_dir` over a counting backend (reads longer
// than `max_read` refused) and restores `snap` into `out`.
Result<RestoreResult> RestoreCountingReads(const std::string& repo_dir, const Snapshot& snap,
                                           const std::string& out, CountingBackend** counter,
                                           std::unique_ptr<Repository>& repo,
                                           uint64_t max_read = UINT64_MAX, size_t threads = 0) {
  auto backend = std::make_unique<CountingBackend>(repo_dir);
  backend->max_read = max_read;
  *counter = backend.get();
  auto opened = Repository::Open(std::move(backend), "pw");
  REQUIRE(opened.ok());
  REQUIRE((*opened)->LoadIndex().ok());
  repo = std::move(*opened);
  RestoreOptions ro;
  ro.target = out;
  ro.threads = threads;
  return Restore(*repo, snap, ro);
}

struct Fixture {
  TempDir dir;
  Snapshot snap;
  std::string tree_pack;  // the pack that holds every tree
  static constexpr size_t kFolders = 30;

  Fixture() {
    auto repo = NewRepo(dir.path + "/repo");
    TreeMaker m(*repo);
    std::vector<Node> folders;
    for (size_t i = 0; i < kFolders; ++i) {
      folders.push_back(m.Dir("d" + std::to_string(i), {m.File("f", {Content(i)})}, At(1'000'000'000)));
    }
    snap = m.Snap({m.Dir("data", std::move(folders), At(1'000'000'000))});
    tree_pack = repo->index().Lookup(BlobType::kTree, snap.tree)->pack.Hex();
  }

  Result<RestoreResult> RestoreCounting(const std::string& out, CountingBackend** counter,
                                        uint64_t max_read = UINT64_MAX) {
    return RestoreCountingReads(dir.path + "/repo", snap, out, counter, repo, max_read);
  }
  std::unique_ptr<Repository> repo;
};

}  // namespace

TEST_CASE("restore reads a tree-only pack once, not once per folder", "[engine][restore]") {
  Fixture f;
  CountingBackend* counter = nullptr;
  auto r = f.RestoreCounting(f.dir.path + "/out", &counter);
  REQUIRE(r.ok());
  CHECK(r->warnings.empty());
  CHECK(r->summary.files == Fixture::kFolders);
  for (size_t i = 0; i < Fixture::kFolders; ++i) {
    CHECK(ReadFile(f.dir.path + "/out/data/d" + std::to_string(i) + "/f") == Content(i));
  }
  // The 32 trees (the top, "data" and its 30 folders) come from one read.
  CHECK(counter->reads[f.tree_pack] == 1);
  // Other readers of trees (a backup's parent) read them one by one.
  auto tree = f.repo->LoadTree(f.snap.tree);
  REQUIRE(tree.ok());
  CHECK(counter->reads[f.tree_pack] == 2);
}

TEST_CASE("a damaged tree in a cached pack is a warning naming it, as without the cache",
          "[engine][restore]") {
  Fixture f;
  // Flip a byte of one folder's tree.
  Id victim;
  {
    auto repo = Repository::Open(std::make_unique<LocalBackend>(f.dir.path + "/repo"), "pw");
    REQUIRE(repo.ok());
    REQUIRE((*repo)->LoadIndex().ok());
    auto top = (*repo)->LoadTree(f.snap.tree);
    REQUIRE(top.ok());
    auto data = (*repo)->LoadTree(*top->nodes[0].subtree);
    REQUIRE(data.ok());
    for (const auto& n : data->nodes) {
      if (n.name == "d7") victim = *n.subtree;  // nodes are sorted by name
    }
    auto loc = (*repo)->index().Lookup(BlobType::kTree, victim);
    REQUIRE(loc);
    std::string path = f.dir.path + "/repo/data/" + f.tree_pack.substr(0, 2) + "/" + f.tree_pack;
    FlipByte(path, loc->blob.offset + 20);
  }
  CountingBackend* counter = nullptr;
  auto r = f.RestoreCounting(f.dir.path + "/out", &counter);
  REQUIRE(r.ok());
  REQUIRE(r->warnings.size() == 1);
  CHECK(r->warnings[0].path == f.dir.path + "/out/data/d7");
  CHECK(r->warnings[0].message.find("tree blob " + victim.Hex()) != std::string::npos);
  CHECK(r->summary.files == Fixture::kFolders - 1);
  CHECK(counter->reads[f.tree_pack] == 1);
}

TEST_CASE("a tree pack that cannot be read whole is read tree by tree, tried whole once",
          "[engine][restore]") {
  Fixture f;
  CountingBackend* counter = nullptr;
  auto r = f.RestoreCounting(f.dir.path + "/out", &counter, /*max_read=*/4096);
  REQUIRE(r.ok());
  CHECK(r->warnings.empty());
  CHECK(r->summary.files == Fixture::kFolders);
  // One whole read refused, then the 32 trees one by one.
  CHECK(counter->reads[f.tree_pack] == 1 + Fixture::kFolders + 2);
}

namespace {

// Files per window as ContentWriter sizes it with 2 threads: up to 1024,
// within a quarter of the open file limit (which the restore raises toward
// the hard one) for 5 jobs' worth of descriptors.
size_t FilesPerWindow() {
  struct rlimit rl;
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &rl) == 0);
  return static_cast<size_t>(std::clamp<uint64_t>(rl.rlim_cur / 4 / 5, 1, 1024));
}

}  // namespace

TEST_CASE("restore reads the blobs of many small files in one pack with one request per window",
          "[engine][restore]") {
  TempDir dir;
  constexpr size_t kFiles = 200;
  Snapshot snap;
  std::string data_pack;
  {
    auto repo = NewRepo(dir.path + "/repo");
    TreeMaker m(*repo);
    std::vector<Node> files;
    for (size_t i = 0; i < kFiles; ++i) files.push_back(m.File("f" + std::to_string(i), {Content(i)}));
    snap = m.Snap({m.Dir("data", std::move(files), At(1'000'000'000))});
    data_pack = repo->index().Lookup(BlobType::kData, Sha256(ToBytes(Content(0))))->pack.Hex();
  }
  CountingBackend* counter = nullptr;
  std::unique_ptr<Repository> repo;
  auto r = RestoreCountingReads(dir.path + "/repo", snap, dir.path + "/out", &counter, repo,
                                UINT64_MAX, /*threads=*/2);
  REQUIRE(r.ok());
  CHECK(r->summary.files == kFiles);
  size_t per_window = FilesPerWindow();
  INFO("files per window " << per_window);
  CHECK(counter->reads[data_pack] == (kFiles + per_window - 1) / per_window);
}

TEST_CASE("restore reads each pack once per window, however many files share it",
          "[engine][restore]") {
  // Two packs that both hold a piece of every file, as a backup on several
  // threads leaves them: the first halves in one, the second in the other.
  // Cut by files alone, every group of files read both packs again.
  TempDir dir;
  constexpr size_t kFiles = 600;
  Snapshot snap;
  std::string first_pack, second_pack;
  {
    auto repo = NewRepo(dir.path + "/repo");
    TreeMaker m(*repo);
    auto half = [](size_t i, char which) { return std::string(1, which) + Content(i); };
    for (size_t i = 0; i < kFiles; ++i) m.Blob(half(i, 'a'));
    REQUIRE(repo->Flush().ok());
    for (size_t i = 0; i < kFiles; ++i) m.Blob(half(i, 'b'));
    REQUIRE(repo->Flush().ok());
    std::vector<Node> files;
    for (size_t i = 0; i < kFiles; ++i) {
      files.push_back(m.File("f" + std::to_string(i), {half(i, 'a'), half(i, 'b')}));
    }
    snap = m.Snap({m.Dir("data", std::move(files), At(1'000'000'000))});
    first_pack = repo->index().Lookup(BlobType::kData, Sha256(ToBytes(half(0, 'a'))))->pack.Hex();
    second_pack = repo->index().Lookup(BlobType::kData, Sha256(ToBytes(half(0, 'b'))))->pack.Hex();
    REQUIRE(first_pack != second_pack);
  }
  CountingBackend* counter = nullptr;
  std::unique_ptr<Repository> repo;
  auto r = RestoreCountingReads(dir.path + "/repo", snap, dir.path + "/out", &counter, repo,
                                UINT64_MAX, /*threads=*/2);
  REQUIRE(r.ok());
  CHECK(r->warnings.empty());
  CHECK(r->summary.files == kFiles);
  for (size_t i = 0; i < kFiles; i += 37) {
    CHECK(ReadFile(dir.path + "/out/data/f" + std::to_string(i)) == "a" + Content(i) + "b" + Content(i));
  }
  size_t per_window = FilesPerWindow();
  INFO("files per window " << per_window);
  // The last window is cut finer (reads of max_read / 2, 4 MiB), but these
  // packs are far smaller than that.
  size_t windows = (kFiles + per_window - 1) / per_window;
  CHECK(counter->reads[first_pack] == windows);
  CHECK(counter->reads[second_pack] == windows);
}
