// Background prunes after snapshot deletes: the PruneQueue's coalescing
// and retries, and SnapshotStorage pruning a real repository after a
// delete so the deleted snapshot's data goes and the kept one's stays.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "apiserver/snapshots/prune_queue.h"
#include "apiserver/snapshots/snapshot_storage.h"
#include "crypto/random.h"
#include "storage/backends/local_backend.h"
#include "test/unit/test_util.h"
#include "storage/tree.h"

using namespace stash;
using namespace stash::apiserver;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

PruneQueue::Options Fast() {
  PruneQueue::Options o;
  o.delay = 100ms;
  o.retry_delay = 20ms;
  o.max_attempts = 3;
  return o;
}

// Polls `done` for up to five seconds.
bool Eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 500; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

}  // namespace

TEST_CASE("prune queue: requests within the window become one run per repository") {
  std::atomic<int> a_runs{0}, b_runs{0};
  PruneQueue q(Fast());
  for (int i = 0; i < 5; ++i) q.Request("a", [&] { ++a_runs; return Status::Ok(); });
  q.Request("b", [&] { ++b_runs; return Status::Ok(); });
  CHECK(a_runs == 0);  // nothing before the window ends
  REQUIRE(Eventually([&] { return a_runs == 1 && b_runs == 1 && q.pending() == 0; }));
  std::this_thread::sleep_for(200ms);
  CHECK(a_runs == 1);
  CHECK(b_runs == 1);
}

TEST_CASE("prune queue: a request during a run gets one more run after it") {
  std::atomic<int> runs{0};
  std::atomic<bool> release{false};
  PruneQueue q(Fast());
  auto job = [&] {
    ++runs;
    while (!release) std::this_thread::sleep_for(5ms);
    return Status::Ok();
  };
  q.Request("a", job);
  REQUIRE(Eventually([&] { return runs == 1; }));
  q.Request("a", job);
  q.Request("a", job);
  release = true;
  REQUIRE(Eventually([&] { return runs == 2 && q.pending() == 0; }));
  std::this_thread::sleep_for(200ms);
  CHECK(runs == 2);
}

TEST_CASE("prune queue: a locked repository is tried again, up to the limit; other errors are not") {
  std::atomic<int> locked{0}, broken{0};
  std::vector<std::string> seen;
  std::mutex mu;
  PruneQueue q(Fast(), [&](const std::string& key, const Status& s) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(key + ":" + (s.ok() ? "ok" : s.error().message()));
  });
  q.Request("locked", [&] { ++locked; return Status(Conflict("repository is already locked")); });
  q.Request("broken", [&] { ++broken; return Status(IOError("disk on fire")); });
  REQUIRE(Eventually([&] { return locked == 3 && q.pending() == 0; }));
  std::this_thread::sleep_for(100ms);
  CHECK(locked == 3);
  CHECK(broken == 1);
  std::lock_guard<std::mutex> lock(mu);
  CHECK(std::count(seen.begin(), seen.end(), "broken:disk on fire") == 1);
}

TEST_CASE("prune queue: stop drops waiting requests") {
  std::atomic<int> runs{0};
  PruneQueue::Options o = Fast();
  o.delay = 10s;
  auto q = std::make_unique<PruneQueue>(o);
  q->Request("a", [&] { ++runs; return Status::Ok(); });
  q->Stop();
  q.reset();
  CHECK(runs == 0);
}

namespace {

using stash::testing::TempDir;

class OneRepository : public RepositorySource {
 public:
  RepositorySpec spec;
  std::vector<RepositorySpec> Repositories() override { return {spec}; }
  bool NamespaceTerminating(const std::string&) override { return false; }
  void OnChange(std::function<void()>) override {}
  std::optional<std::string> NamespacePhase(const std::string&) const override { return "Active"; }
};

// A snapshot of one file whose content is one random blob of its own.
std::pair<Id, Id> AddSnapshotWithData(Repository& repo, int64_t seconds) {
  Bytes data = RandomBytes(50000);
  Id blob = Sha256(data);
  REQUIRE(repo.SaveBlob(BlobType::kData, blob, data).ok());
  Node file;
  file.name = "file";
  file.type = NodeType::kFile;
  file.mode = 0644;
  file.size = data.size();
  file.content = std::vector<Id>{blob};
  auto tree = repo.SaveTree(Tree{{file}});
  REQUIRE(tree.ok());
  REQUIRE(repo.Flush().ok());
  Snapshot s;
  s.time.seconds = seconds;
  s.tree = *tree;
  s.paths = {"/data"};
  s.hostname = "web";
  auto id = repo.SaveSnapshot(s);
  REQUIRE(id.ok());
  return {*id, blob};
}

bool RepositoryHasBlob(const std::string& path, const Id& blob) {
  auto repo = Repository::Open(std::make_unique<LocalBackend>(path), "pw");
  REQUIRE(repo.ok());
  REQUIRE((*repo)->LoadIndex().ok());
  return (*repo)->HasBlob(BlobType::kData, blob);
}

}  // namespace

TEST_CASE("deleting snapshots prunes their data once, in the background") {
  TempDir dir;
  std::string path = dir.path + "/repo";
  InitOptions init;
  init.chunker_polynomial = 0x3DA3358B4DC173;
  init.kdf = {1024, 8, 1};
  auto repo = Repository::Init(std::make_unique<LocalBackend>(path), "pw", init);
  REQUIRE(repo.ok());
  auto [kept, kept_blob] = AddSnapshotWithData(**repo, 1000);
  auto [gone1, gone1_blob] = AddSnapshotWithData(**repo, 2000);
  auto [gone2, gone2_blob] = AddSnapshotWithData(**repo, 3000);

  OneRepository source;
  source.spec.ns = "demo";
  source.spec.name = "repo";
  source.spec.location = path;
  source.spec.password = "pw";
  ThreadPool pool{2};
  Metrics metrics;
  SnapshotStorage::DeclareMetrics(metrics);
  SnapshotStorageOptions options;
  options.refresh_interval = 100ms;
  options.prune = Fast();
  SnapshotStorage storage(source, pool, &metrics, options);
  storage.Start();
  for (const Id& id : {gone1, gone2}) {
    std::vector<std::string> warnings;
    auto object = storage.Get("demo", "repo-" + id.Short(), warnings);
    REQUIRE(object.ok());
    REQUIRE(storage.Delete(*object, UserInfo{"alice", "", {}, {}}).ok());
  }
  CHECK(RepositoryHasBlob(path, gone1_blob));  // the files went at once, the data waits
  REQUIRE(Eventually([&] { return metrics.Value("stash_apiserver_prunes_total", {{"result", "ok"}}) >= 1; }));
  std::this_thread::sleep_for(300ms);
  CHECK(metrics.Value("stash_apiserver_prunes_total", {{"result", "ok"}}) == 1);  // coalesced
  CHECK(RepositoryHasBlob(path, kept_blob));
  CHECK_FALSE(RepositoryHasBlob(path, gone1_blob));
  CHECK_FALSE(RepositoryHasBlob(path, gone2_blob));
  CHECK(fs::is_empty(path + "/locks"));
  storage.Stop();
  pool.Shutdown();
}
