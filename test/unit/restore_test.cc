// Restores of trees built directly in a repository (engine/restorer.h).
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "engine/restorer.h"
#include "storage/backends/local_backend.h"
#include "test/unit/engine_test_util.h"
#include "test/unit/test_util.h"

namespace fs = std::filesystem;
using namespace stash;
using stash::testing::TempDir;
using namespace stash::testing;

// ---------------------------------------------------------------------------
// Restores of trees built directly in a repository, so their shapes (hard
// links, folder times, many files, repeated and large blobs) are exact.

TEST_CASE("restore sets folder times and modes after the files in them", "[engine][restore]") {
  TempDir dir;
  auto repo = NewRepo(dir.path + "/repo");
  TreeMaker m(*repo);
  // Enough files per folder that content threads create them long after
  // the walker has left the folder.
  auto files = [&](const std::string& prefix, size_t n) {
    std::vector<Node> out;
    for (size_t i = 0; i < n; ++i) out.push_back(m.File(prefix + std::to_string(i), {Content(i)}));
    return out;
  };
  std::vector<Node> top = files("f", 300);
  top.push_back(m.Dir("sub1", files("g", 200), At(1'400'000'001, 5)));
  top.push_back(m.Dir("sub2", files("h", 10), At(1'400'000'002, 6)));
  top.push_back(m.Dir("empty", {}, At(1'400'000'003, 7)));
  top.push_back(m.Dir("readonly", files("r", 150), At(1'400'000'004, 8), 0555));
  Snapshot snap = m.Snap({m.Dir("data", std::move(top), At(1'400'000'000, 4), 0750)});

  size_t threads = GENERATE(1, 2, 4);
  RestoreOptions ro;
  ro.target = dir.path + "/out" + std::to_string(threads);
  ro.threads = threads;
  auto r = Restore(*repo, snap, ro);
  REQUIRE(r.ok());
  CHECK(r->warnings.empty());
  CHECK(r->summary.files == 660);
  CHECK(r->summary.dirs == 5);
  std::string out = ro.target + "/data";
  CheckTimes(out, At(1'400'000'000, 4));
  CheckTimes(out + "/sub1", At(1'400'000'001, 5));
  CheckTimes(out + "/sub2", At(1'400'000'002, 6));
  CheckTimes(out + "/empty", At(1'400'000'003, 7));
  CheckTimes(out + "/readonly", At(1'400'000'004, 8));
  CHECK((Lstat(out).st_mode & 07777) == 0750);
  CHECK((Lstat(out + "/readonly").st_mode & 07777) == 0555);
  for (size_t i = 0; i < 300; i += 7) CHECK(ReadFile(out + "/f" + std::to_string(i)) == Content(i));
  for (size_t i = 0; i < 150; i += 7) CHECK(ReadFile(out + "/readonly/r" + std::to_string(i)) == Content(i));
  CHECK((Lstat(out + "/f3").st_mode & 07777) == 0644);
  CheckTimes(out + "/sub1/g199", At(1'500'000'000 + 300 + 200, 111));
  ::chmod((out + "/readonly").c_str(), 0755);  // so TempDir can clean up as non-root
}

TEST_CASE("restore links hard links across folders", "[engine][restore]") {
  TempDir dir;
  auto repo = NewRepo(dir.path + "/repo");
  TreeMaker m(*repo);
  auto linked = [&](const std::string& name, uint64_t inode, uint64_t links, const std::string& text) {
    Node n = m.File(name, {text});
    n.inode = inode;
    n.device_id = 7;
    n.links = links;
    return n;
  };
  Node other_device = linked("same-inode-other-device", 42, 2, "other");
  other_device.device_id = 8;
  std::vector<Node> a, b, c;
  for (size_t i = 0; i < 100; ++i) a.push_back(m.File("pad" + std::to_string(i), {Content(i)}));
  a.push_back(linked("x", 42, 3, "forty-two"));
  a.push_back(linked("p", 43, 2, "forty-three"));
  b.push_back(linked("y", 42, 3, "forty-two"));
  b.push_back(linked("z", 42, 3, "forty-two"));
  c.push_back(linked("q", 43, 2, "forty-three"));
  c.push_back(other_device);
  Snapshot snap = m.Snap({m.Dir("data", {m.Dir("a", a, At(1'300'000'001)), m.Dir("b", b, At(1'300'000'002)),
                                          m.Dir("c", c, At(1'300'000'003))},
                                At(1'300'000'000))});
  RestoreOptions ro;
  ro.target = dir.path + "/out";
  auto r = Restore(*repo, snap, ro);
  REQUIRE(r.ok());
  CHECK(r->warnings.empty());
  std::string out = ro.target + "/data";
  struct stat x = Lstat(out + "/a/x"), y = Lstat(out + "/b/y"), z = Lstat(out + "/b/z");
  struct stat p = Lstat(out + "/a/p"), q = Lstat(out + "/c/q"), o = Lstat(out + "/c/same-inode-other-device");
  CHECK(x.st_ino == y.st_ino);
  CHECK(x.st_ino == z.st_ino);
  CHECK(x.st_nlink == 3);
  CHECK(p.st_ino == q.st_ino);
  CHECK(p.st_nlink == 2);
  CHECK(o.st_ino != x.st_ino);
  CHECK(o.st_nlink == 1);
  CHECK(ReadFile(out + "/b/z") == "forty-two");
  CHECK(ReadFile(out + "/c/q") == "forty-three");
  CHECK(ReadFile(out + "/c/same-inode-other-device") == "other");
  CheckTimes(out + "/a", At(1'300'000'001));
  CheckTimes(out + "/b", At(1'300'000'002));
  CheckTimes(out + "/c", At(1'300'000'003));
  CheckTimes(out, At(1'300'000'000));
}

TEST_CASE("restore of many files, repeated blobs and large files", "[engine][restore]") {
  TempDir dir;
  auto repo = NewRepo(dir.path + "/repo");
  TreeMaker m(*repo);
  std::vector<Node> top;
  std::map<std::string, std::string> expect;  // path below data/ -> content
  size_t n = 0;
  for (size_t d = 0; d < 12; ++d) {
    std::vector<Node> nodes;
    for (size_t i = 0; i < 250; ++i, ++n) {
      std::string name = "f" + std::to_string(i);
      std::string text = i % 10 == 0 ? "" : i % 10 == 1 ? "same everywhere" : Content(n);
      nodes.push_back(m.File(name, {text}));
      expect["d" + std::to_string(d) + "/" + name] = text;
    }
    top.push_back(m.Dir("d" + std::to_string(d), std::move(nodes), At(1'200'000'000 + d)));
  }
  // Chunks repeated inside one file and across files, and a file larger
  // than one job, so its slices are written by several threads.
  std::string chunk_a(3 << 20, 'a'), chunk_b(3 << 20, 'b');
  for (size_t i = 0; i < chunk_b.size(); i += 4096) chunk_b[i] = static_cast<char>(i >> 12);
  std::vector<std::string> big_chunks = {chunk_a, chunk_b, chunk_a, "middle", chunk_b, chunk_a, chunk_a};
  std::string big;
  for (const auto& c : big_chunks) big += c;
  top.push_back(m.File("big", big_chunks));
  top.push_back(m.File("repeats", {"x", "y", "x", "x", "", "y"}));
  expect["big"] = big;
  expect["repeats"] = "xyxxy";
  top.push_back(m.File("no-blobs", {}));
  expect["no-blobs"] = "";
  Snapshot snap = m.Snap({m.Dir("data", std::move(top), At(1'200'000'000))});

  size_t threads = GENERATE(1, 3);
  RestoreOptions ro;
  ro.target = dir.path + "/out";
  ro.threads = threads;
  auto r = Restore(*repo, snap, ro);
  REQUIRE(r.ok());
  CHECK(r->warnings.empty());
  CHECK(r->summary.files == expect.size());
  uint64_t bytes = 0;
  for (const auto& [path, text] : expect) bytes += text.size();
  CHECK(r->summary.bytes == bytes);
  size_t mismatches = 0;
  for (const auto& [path, text] : expect) {
    if (ReadFile(ro.target + "/data/" + path) != text) {
      UNSCOPED_INFO("differs: " << path);
      ++mismatches;
    }
  }
  CHECK(mismatches == 0);
  CHECK(fs::file_size(ro.target + "/data/big") == big.size());
  for (size_t d = 0; d < 12; ++d) CheckTimes(ro.target + "/data/d" + std::to_string(d), At(1'200'000'000 + d));
}

TEST_CASE("restore: files that cannot be created are warnings, in walk order", "[engine][restore]") {
  TempDir dir;
  auto repo = NewRepo(dir.path + "/repo");
  TreeMaker m(*repo);
  std::vector<Node> nodes = NumberedFiles(m, 40);
  RestoreOptions ro;
  ro.target = dir.path + "/out";
  Snapshot snap = m.Snap({m.Dir("data", nodes, At(1'000'000'000))});
  fs::create_directories(ro.target + "/data/f40/x");
  fs::create_directories(ro.target + "/data/f15");
  // An existing symlink at a file's name is replaced, never followed.
  fs::create_directories(dir.path + "/outside");
  WriteFile(dir.path + "/outside/victim", "keep");
  ::symlink((dir.path + "/outside/victim").c_str(), (ro.target + "/data/f20").c_str());
  WriteFile(ro.target + "/data/f21", "old content that is longer than the new one");
  auto r = Restore(*repo, snap, ro);
  REQUIRE(r.ok());
  REQUIRE(r->warnings.size() == 2);
  CHECK(r->warnings[0].path == ro.target + "/data/f15");
  CHECK(r->warnings[1].path == ro.target + "/data/f40");
  CHECK(r->warnings[0].message.rfind("create: ", 0) == 0);
  CHECK(r->summary.files == 38);
  CHECK(ReadFile(dir.path + "/outside/victim") == "keep");
  CHECK(!fs::is_symlink(ro.target + "/data/f20"));
  CHECK(ReadFile(ro.target + "/data/f20") == Content(10));
  CHECK(ReadFile(ro.target + "/data/f21") == Content(11));
  CheckTimes(ro.target + "/data", At(1'000'000'000));
}

TEST_CASE("restore sets owners as root, also in a set-group-id target", "[engine][restore]") {
  if (::geteuid() != 0) {
    WARN("owners are only restored as root; skipped");
    return;
  }
  TempDir dir;
  auto repo = NewRepo(dir.path + "/repo");
  TreeMaker m(*repo);
  auto owned = [&](const std::string& name, uint32_t uid, uint32_t gid) {
    Node n = m.File(name, {name});
    n.uid = uid;
    n.gid = gid;
    return n;
  };
  std::vector<Node> nodes = {owned("root", 0, 0), owned("other", 1234, 5678), owned("group", 0, 4321)};
  Node sub = m.Dir("sub", {owned("in-sub", 0, 0)}, At(1'000'000'000), 0775);
  sub.mode |= gomode::kSetgid;
  sub.uid = 0;
  sub.gid = 4321;
  nodes.push_back(sub);
  Snapshot snap = m.Snap(nodes);
  RestoreOptions ro;
  ro.target = dir.path + "/out";
  ro.restore_owner = true;
  fs::create_directories(ro.target);
  // Files created in the target get its group: every file must still end
  // up with the group its node names.
  REQUIRE(::chown(ro.target.c_str(), 0, 4321) == 0);
  REQUIRE(::chmod(ro.target.c_str(), 02755) == 0);
  auto r = Restore(*repo, snap, ro);
  REQUIRE(r.ok());
  CHECK(r->warnings.empty());
  auto owner = [&](const std::string& name) {
    struct stat st = Lstat(ro.target + "/" + name);
    return std::make_pair(st.st_uid, st.st_gid);
  };
  CHECK(owner("root") == std::make_pair(0u, 0u));
  CHECK(owner("other") == std::make_pair(1234u, 5678u));
  CHECK(owner("group") == std::make_pair(0u, 4321u));
  CHECK(owner("sub") == std::make_pair(0u, 4321u));
  CHECK(owner("sub/in-sub") == std::make_pair(0u, 0u));
  CHECK((Lstat(ro.target + "/sub").st_mode & 07777) == 02775);
}

namespace {

// A local backend whose reads of `gated` packs wait (up to 2 seconds) for
// another such read to be in flight, counting the most at once.
class OverlapBackend : public LocalBackend {
 public:
  using LocalBackend::LocalBackend;
  Status ReadInto(FileType type, const std::string& name, uint64_t offset, uint64_t length,
                  Bytes& out) override {
    if (type != FileType::kPack || !gated.count(name)) return LocalBackend::ReadInto(type, name, offset, length, out);
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (!out.empty()) ++into_used;  // a fresh buffer is empty; a reused one keeps its last read
      max_in_flight = std::max(max_in_flight, ++in_flight_);
      cv_.notify_all();
      cv_.wait_for(lock, std::chrono::seconds(2), [&] { return in_flight_ >= 2; });
    }
    Status read = LocalBackend::ReadInto(type, name, offset, length, out);
    std::lock_guard<std::mutex> lock(mu_);
    --in_flight_;
    return read;
  }
  std::set<std::string> gated;  // set before the restore
  size_t max_in_flight = 0;     // read after it
  size_t into_used = 0;         // reads into a buffer an earlier read had filled

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  size_t in_flight_ = 0;
};

}  // namespace

// What an OverlapBackend saw of one restore.
struct OverlapCounts {
  size_t max_in_flight = 0;
  size_t into_used = 0;
};

// Restores, on one thread (one job), a file of six chunks stored a pack each,
// so six runs, through an OverlapBackend; checks the file.
static OverlapCounts RestoreSixRuns() {
  TempDir dir;
  auto repo = NewRepo(dir.path + "/repo");
  repo->set_pack_size(1);  // a pack per blob: each blob is a run of its own
  TreeMaker m(*repo);
  std::vector<std::string> chunks;
  for (size_t i = 0; i < 6; ++i) chunks.push_back(Content(100 + i));
  Snapshot snap = m.Snap({m.Dir("data", {m.File("f", chunks)}, At(1'000'000'000))});
  auto backend = std::make_unique<OverlapBackend>(dir.path + "/repo");
  OverlapBackend& reads = *backend;
  for (const auto& c : chunks) {
    reads.gated.insert(repo->index().Lookup(BlobType::kData, Sha256(ToBytes(c)))->pack.Hex());
  }
  auto opened = Repository::Open(std::move(backend), "pw");
  REQUIRE(opened.ok());
  REQUIRE((*opened)->LoadIndex().ok());
  RestoreOptions ro;
  ro.target = dir.path + "/out";
  ro.threads = 1;  // one job: only its read ahead can overlap
  auto r = Restore(**opened, snap, ro);
  REQUIRE(r.ok());
  CHECK(r->warnings.empty());
  std::string all;
  for (const auto& c : chunks) all += c;
  CHECK(ReadFile(ro.target + "/data/f") == all);
  return {reads.max_in_flight, reads.into_used};
}

TEST_CASE("restore reads a job's next run while it writes the current one", "[engine][restore]") {
  CHECK(RestoreSixRuns().max_in_flight == 2);  // one read ahead, no more
}

TEST_CASE("restore reads into buffers its earlier reads filled", "[engine][restore]") {
  // Six runs, at most two reads at once: only the first two need new memory.
  CHECK(RestoreSixRuns().into_used == 4);
}
