// Repository uploads: full packs go to the backend on their own threads
// while SaveBlob goes on, a bounded number at once, and a failed upload
// fails what comes after it and is never indexed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "crypto/random.h"
#include "storage/backends/local_backend.h"
#include "storage/repository.h"
#include "test/unit/storage_helpers.h"
#include "test/unit/test_util.h"

using namespace stash;
using stash::testing::FastInit;
using stash::testing::Pattern;
using stash::testing::TempDir;

namespace {

// A local backend whose pack writes wait at a gate until Open(), then
// store the pack, or fail with `fail_with` once `succeed` packs are stored.
class GatedBackend : public LocalBackend {
 public:
  using LocalBackend::LocalBackend;
  // Packs upload from their files: through the base's mapping, to the gate.
  Status WriteFromFile(FileType type, const std::string& name, int fd, uint64_t size) override {
    return Backend::WriteFromFile(type, name, fd, size);
  }
  Status Write(FileType type, const std::string& name, ByteView data) override {
    if (type != FileType::kPack) return LocalBackend::Write(type, name, data);
    std::unique_lock<std::mutex> lock(mu_);
    max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    --in_flight_;
    Status written = !fail_with_.empty() && succeed_-- <= 0 ? Status(IOError(fail_with_))
                                                            : LocalBackend::Write(type, name, data);
    ++done_;
    cv_.notify_all();
    return written;
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void FailAfter(int succeed, std::string message) {
    std::lock_guard<std::mutex> lock(mu_);
    succeed_ = succeed;
    fail_with_ = std::move(message);
  }
  // Whether `n` pack writes are waiting at the gate within 10 seconds.
  bool WaitInFlight(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return in_flight_ == n; });
  }
  // Whether `n` pack writes have ended within 10 seconds.
  bool WaitDone(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return done_ == n; });
  }
  size_t max_in_flight() {
    std::lock_guard<std::mutex> lock(mu_);
    return max_in_flight_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  size_t in_flight_ = 0, max_in_flight_ = 0, done_ = 0;
  bool open_ = false;
  int succeed_ = 0;
  std::string fail_with_;
};

struct GatedRepo {
  TempDir dir;
  GatedBackend* backend = nullptr;  // owned by repo
  std::unique_ptr<Repository> repo;
  GatedRepo() {
    REQUIRE(Repository::Init(std::make_unique<LocalBackend>(dir.path), "pw", FastInit(1)).ok());
    auto gated = std::make_unique<GatedBackend>(dir.path);
    backend = gated.get();
    auto opened = Repository::Open(std::move(gated), "pw");
    REQUIRE(opened.ok());
    repo = std::move(*opened);
    repo->set_pack_size(1);  // every blob fills a pack
  }
  // A failed check must not leave uploads waiting at the gate forever.
  ~GatedRepo() { backend->Open(); }
};

}  // namespace

TEST_CASE("full packs upload while SaveBlob goes on, a bounded number at once", "[repo]") {
  GatedRepo g;
  std::vector<Bytes> blobs;
  for (size_t i = 0; i <= kMaxUploads; ++i) blobs.push_back(RandomBytes(1000 + i));
  // Each SaveBlob fills a pack and returns while that pack's upload waits
  // at the gate: kMaxUploads uploads are in flight at once.
  for (size_t i = 0; i < kMaxUploads; ++i) {
    REQUIRE(*g.repo->SaveBlob(BlobType::kData, Sha256(blobs[i]), blobs[i]));
    CHECK(g.repo->HasBlob(BlobType::kData, Sha256(blobs[i])));  // pending: not stored twice
  }
  REQUIRE(g.backend->WaitInFlight(kMaxUploads));
  CHECK(g.backend->List(FileType::kPack)->empty());
  // One more full pack waits for a free slot instead of piling up.
  auto blocked = std::async(std::launch::async, [&] {
    return g.repo->SaveBlob(BlobType::kData, Sha256(blobs.back()), blobs.back());
  });
  CHECK(blocked.wait_for(std::chrono::milliseconds(300)) == std::future_status::timeout);
  g.backend->Open();
  REQUIRE(*blocked.get());
  REQUIRE(g.repo->Flush().ok());
  CHECK(g.backend->max_in_flight() == kMaxUploads);
  CHECK(g.backend->List(FileType::kPack)->size() == blobs.size());
  auto again = Repository::Open(std::make_unique<LocalBackend>(g.dir.path), "pw");
  REQUIRE(again.ok());
  REQUIRE((*again)->LoadIndex().ok());
  for (const auto& b : blobs) CHECK(*(*again)->LoadBlob(BlobType::kData, Sha256(b)) == b);
}

TEST_CASE("blobs of a pack being uploaded are known by id and type, and not stored twice", "[repo]") {
  GatedRepo g;
  g.repo->set_pack_size(20000);
  std::vector<Bytes> blobs;
  for (size_t i = 0; i < 40; ++i) blobs.push_back(RandomBytes(600 + i));
  // Saved in one order; the uploading pack's list is searched by id.
  for (const auto& b : blobs) REQUIRE(*g.repo->SaveBlob(BlobType::kData, Sha256(b), b));
  REQUIRE(g.backend->WaitInFlight(1));
  for (const auto& b : blobs) {
    CHECK(g.repo->HasBlob(BlobType::kData, Sha256(b)));
    CHECK_FALSE(*g.repo->SaveBlob(BlobType::kData, Sha256(b), b));
    CHECK_FALSE(g.repo->HasBlob(BlobType::kTree, Sha256(b)));  // the type is part of the key
  }
  Bytes other = RandomBytes(10);
  CHECK_FALSE(g.repo->HasBlob(BlobType::kData, Sha256(other)));
  g.backend->Open();
  REQUIRE(g.repo->Flush().ok());
  auto again = Repository::Open(std::make_unique<LocalBackend>(g.dir.path), "pw");
  REQUIRE(again.ok());
  REQUIRE((*again)->LoadIndex().ok());
  for (const auto& b : blobs) CHECK(*(*again)->LoadBlob(BlobType::kData, Sha256(b)) == b);
}

TEST_CASE("a failed upload fails the next SaveBlob and Flush, and is never indexed", "[repo]") {
  GatedRepo g;
  const std::string message = "s3: PUT data/xx: 503 SlowDown: Please reduce your request rate";
  g.backend->FailAfter(1, message);
  Bytes first = RandomBytes(1000), second = RandomBytes(1001);
  REQUIRE(*g.repo->SaveBlob(BlobType::kData, Sha256(first), first));
  REQUIRE(*g.repo->SaveBlob(BlobType::kData, Sha256(second), second));  // handed over, not stored yet
  REQUIRE(g.backend->WaitInFlight(2));
  g.backend->Open();
  REQUIRE(g.backend->WaitDone(2));
  // One upload failed behind SaveBlob's back: a later SaveBlob says so.
  Result<bool> saved = true;
  for (int i = 0; i < 1000 && saved.ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    Bytes more = RandomBytes(500);
    saved = g.repo->SaveBlob(BlobType::kData, Sha256(more), more);
  }
  REQUIRE_FALSE(saved.ok());
  CHECK(saved.error().message() == message);
  Status flushed = g.repo->Flush();
  REQUIRE_FALSE(flushed.ok());
  CHECK(flushed.error().message() == message);
  // The two uploads ran at once, so either may be the one stored: that
  // one is indexed, the other is not.
  bool first_stored = g.repo->index().Has(BlobType::kData, Sha256(first));
  CHECK(first_stored != g.repo->index().Has(BlobType::kData, Sha256(second)));
  auto packs = g.backend->List(FileType::kPack);
  REQUIRE(packs->size() == 1);
  auto stored = g.repo->index().Lookup(BlobType::kData, Sha256(first_stored ? first : second));
  REQUIRE(stored);
  CHECK(stored->pack.Hex() == (*packs)[0].name);
  CHECK(g.backend->List(FileType::kIndex)->empty());  // no index names a missing pack
}

