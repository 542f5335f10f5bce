// Repository locks: the lock file format, conflicts, staleness, removal
// and the background refresh.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <thread>

#include "storage/backends/local_backend.h"
#include "storage/lock.h"
#include "test/unit/test_util.h"

using namespace stash;
using namespace std::chrono_literals;

namespace stash {
// Shortens the lock's timings so tests need not wait minutes.
struct LockTestPeer {
  static void Timing(std::chrono::milliseconds refresh, std::chrono::milliseconds recheck) {
    RepositoryLock::SetTimingForTest(refresh, recheck);
  }
};
}  // namespace stash

namespace {

// A repository with cheap scrypt and fast lock timings.
struct Fixture {
  explicit Fixture(int version = 2) {
    LockTestPeer::Timing(1h, 5ms);
    InitOptions o;
    o.version = version;
    o.chunker_polynomial = 0x3DA3358B4DC173;
    o.kdf = {1024, 8, 1};
    auto r = Repository::Init(std::make_unique<LocalBackend>(dir.path + "/repo"), "pw", o);
    REQUIRE(r.ok());
    repo = std::move(*r);
  }
  ~Fixture() { LockTestPeer::Timing(5min, 200ms); }

  std::set<std::string> LockFiles() {
    auto files = repo->backend().List(FileType::kLock);
    REQUIRE(files.ok());
    std::set<std::string> names;
    for (const auto& f : *files) names.insert(f.name);
    return names;
  }
  Id Plant(const LockInfo& info) {
    auto id = repo->SaveFile(FileType::kLock, AsBytes(EncodeLockInfo(info)));
    REQUIRE(id.ok());
    return *id;
  }

  stash::testing::TempDir dir;
  std::unique_ptr<Repository> repo;
};

std::string ThisHost() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

// The PID of a process that has exited and been reaped.
pid_t DeadPid() {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  return child;
}

Timestamp Ago(int64_t seconds) {
  Timestamp t = Timestamp::Now();
  t.seconds -= seconds;
  return t;
}

}  // namespace

TEST_CASE("lock JSON is restic's, uid and gid omitted when 0") {
  LockInfo l;
  l.time = *ParseRfc3339("2022-09-01T12:00:00.5+02:00");
  l.exclusive = true;
  l.hostname = "host<1>";
  l.username = "root";
  l.pid = 1234;
  CHECK(EncodeLockInfo(l) ==
        "{\"time\":\"2022-09-01T12:00:00.5+02:00\",\"exclusive\":true,\"hostname\":"
        "\"host\\u003c1\\u003e\",\"username\":\"root\",\"pid\":1234}");
  l.uid = 1000;
  l.gid = 100;
  std::string json = EncodeLockInfo(l);
  CHECK(json.find(",\"pid\":1234,\"uid\":1000,\"gid\":100}") != std::string::npos);
  auto back = DecodeLockInfo(AsBytes(json));
  REQUIRE(back.ok());
  CHECK(back->time == l.time);
  CHECK(back->time.utc_offset == 7200);
  CHECK(back->exclusive);
  CHECK(back->hostname == "host<1>");
  CHECK(back->pid == 1234);
  CHECK(back->uid == 1000);
  CHECK(back->gid == 100);
  CHECK(EncodeLockInfo(*back) == json);

  for (const char* bad : {"", "[]", "{\"time\":5}", "{\"pid\":\"x\"}", "{\"uid\":-1}",
                          "{\"exclusive\":1}", "{\"time\":\"yesterday\"}"}) {
    CHECK(!DecodeLockInfo(AsBytes(bad)).ok());
  }
}

TEST_CASE("a lock file is stored encrypted and reads back in both formats") {
  for (int version : {1, 2}) {
    Fixture f(version);
    auto lock = RepositoryLock::Acquire(*f.repo, LockMode::kShared);
    REQUIRE(lock.ok());
    auto locks = ListLocks(*f.repo);
    REQUIRE(locks.ok());
    REQUIRE(locks->size() == 1);
    const LockInfo& info = (*locks)[0].second;
    CHECK(!info.exclusive);
    CHECK(info.pid == ::getpid());
    CHECK(info.uid == ::getuid());
    CHECK(info.hostname == ThisHost());
    REQUIRE((*lock)->Release().ok());
    CHECK(f.LockFiles().empty());
    CHECK((*lock)->Release().ok());  // a second release does nothing
  }
}

TEST_CASE("shared locks coexist; exclusive ones conflict with anything") {
  Fixture f;
  auto a = RepositoryLock::Acquire(*f.repo, LockMode::kShared);
  auto b = RepositoryLock::Acquire(*f.repo, LockMode::kShared);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(f.LockFiles().size() == 2);

  auto x = RepositoryLock::Acquire(*f.repo, LockMode::kExclusive);
  REQUIRE(!x.ok());
  CHECK(x.error().kind() == ErrorKind::kConflict);
  const std::string& msg = x.error().message();
  CHECK(msg.rfind("repository is already locked by PID " + std::to_string(::getpid()) + " on " +
                      ThisHost() + " by ", 0) == 0);
  CHECK(msg.find("; lock was created at ") != std::string::npos);
  CHECK(msg.find(" ago); storage ID ") != std::string::npos);
  CHECK(msg.find('\n') == std::string::npos);
  CHECK(f.LockFiles().size() == 2);  // the loser left nothing behind

  a->reset();
  b->reset();  // destructors release
  CHECK(f.LockFiles().empty());

  auto e = RepositoryLock::Acquire(*f.repo, LockMode::kExclusive);
  REQUIRE(e.ok());
  for (LockMode mode : {LockMode::kShared, LockMode::kExclusive}) {
    auto other = RepositoryLock::Acquire(*f.repo, mode);
    REQUIRE(!other.ok());
    CHECK(other.error().kind() == ErrorKind::kConflict);
    CHECK(other.error().message().rfind("repository is already locked exclusively by PID", 0) == 0);
  }
  CHECK(f.LockFiles().size() == 1);
}

TEST_CASE("a rival that appears during an exclusive lock's re-check wait makes it back off") {
  Fixture f;
  LockTestPeer::Timing(1h, 300ms);
  LockInfo rival = CurrentProcessLock(LockMode::kShared);
  bool planted = false;  // no REQUIRE off the main thread: Catch is not thread-safe
  std::thread planter([&] {
    std::this_thread::sleep_for(100ms);
    planted = f.repo->SaveFile(FileType::kLock, AsBytes(EncodeLockInfo(rival))).ok();
  });
  auto lock = RepositoryLock::Acquire(*f.repo, LockMode::kExclusive);
  planter.join();
  REQUIRE(planted);
  REQUIRE(!lock.ok());
  CHECK(lock.error().kind() == ErrorKind::kConflict);
  CHECK(f.LockFiles().size() == 1);  // only the rival's
}

TEST_CASE("a shared lock does not wait: the exclusive side's wait covers the race") {
  Fixture f;
  LockTestPeer::Timing(1h, 10s);  // a shared lock that waited would take 10 s
  auto start = std::chrono::steady_clock::now();
  auto lock = RepositoryLock::Acquire(*f.repo, LockMode::kShared);
  REQUIRE(lock.ok());
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  // An exclusive locker arriving now finds the shared lock when it looks again.
  auto exclusive = RepositoryLock::Acquire(*f.repo, LockMode::kExclusive);
  REQUIRE_FALSE(exclusive.ok());
  CHECK(exclusive.error().kind() == ErrorKind::kConflict);
}

TEST_CASE("unreadable lock files are ignored") {
  Fixture f;
  Bytes garbage(100, 0x42);
  REQUIRE(f.repo->backend().Write(FileType::kLock, Sha256(garbage).Hex(), garbage).ok());
  REQUIRE(f.repo->SaveFile(FileType::kLock, AsBytes("not json")).ok());
  auto lock = RepositoryLock::Acquire(*f.repo, LockMode::kExclusive);
  CHECK(lock.ok());
}

TEST_CASE("stale: older than 30 minutes, or a dead process on this host") {
  Timestamp now = Timestamp::Now();
  LockInfo l = CurrentProcessLock(LockMode::kShared);
  CHECK(!IsStale(l, now));  // this process is alive

  l.time = Ago(31 * 60);
  CHECK(IsStale(l, now));
  l.time = Ago(29 * 60);
  CHECK(!IsStale(l, now));

  l.pid = DeadPid();
  CHECK(IsStale(l, now));
  l.hostname = ThisHost() + "-elsewhere";  // cannot check another host's PIDs
  CHECK(!IsStale(l, now));
  l.time = Ago(31 * 60);
  CHECK(IsStale(l, now));

  // Go's zero time (a lock without "time") is ancient, and the age must
  // not overflow on the way.
  auto zero = DecodeLockInfo(AsBytes("{\"time\":\"0001-01-01T00:00:00Z\",\"pid\":1}"));
  REQUIRE(zero.ok());
  CHECK(IsStale(*zero, now));
  CHECK(DescribeLock(*zero, Id{}, now).find("(2562047h47m16.854775807s ago)") != std::string::npos);
}

TEST_CASE("stale locks still block, as in restic 0.14, until removed") {
  Fixture f;
  LockInfo dead = CurrentProcessLock(LockMode::kExclusive);
  dead.pid = DeadPid();
  f.Plant(dead);
  auto lock = RepositoryLock::Acquire(*f.repo, LockMode::kShared);
  REQUIRE(!lock.ok());
  CHECK(lock.error().message().find("PID " + std::to_string(dead.pid)) != std::string::npos);

  auto removed = RemoveLocks(*f.repo, false);
  REQUIRE(removed.ok());
  CHECK(*removed == 1);
  CHECK(RepositoryLock::Acquire(*f.repo, LockMode::kShared).ok());
}

TEST_CASE("RemoveLocks removes stale locks only, or all of them") {
  Fixture f;
  LockInfo old = CurrentProcessLock(LockMode::kShared);
  old.time = Ago(3600);
  old.hostname = "elsewhere";
  LockInfo dead = CurrentProcessLock(LockMode::kExclusive);
  dead.pid = DeadPid();
  LockInfo remote = CurrentProcessLock(LockMode::kShared);
  remote.hostname = "elsewhere";
  remote.pid = DeadPid();  // on another host, so not known to be dead
  Id old_id = f.Plant(old), dead_id = f.Plant(dead), remote_id = f.Plant(remote);
  Id live_id = f.Plant(CurrentProcessLock(LockMode::kShared));
  Bytes garbage(64, 7);
  REQUIRE(f.repo->backend().Write(FileType::kLock, Sha256(garbage).Hex(), garbage).ok());

  auto stale = RemoveLocks(*f.repo, false);
  REQUIRE(stale.ok());
  CHECK(*stale == 2);
  CHECK(f.LockFiles() == std::set<std::string>{remote_id.Hex(), live_id.Hex(), Sha256(garbage).Hex()});
  (void)old_id;
  (void)dead_id;

  auto all = RemoveLocks(*f.repo, true);
  REQUIRE(all.ok());
  CHECK(*all == 3);
  CHECK(f.LockFiles().empty());
}

TEST_CASE("the refresh writes a new lock file, then removes the old one") {
  Fixture f;
  LockTestPeer::Timing(150ms, 5ms);
  auto lock = RepositoryLock::Acquire(*f.repo, LockMode::kExclusive);
  REQUIRE(lock.ok());
  auto first = f.LockFiles();
  REQUIRE(first.size() == 1);
  auto first_info = ListLocks(*f.repo);
  REQUIRE(first_info.ok());

  // Wait until the first file is gone: right after the refresh wrote the
  // new file, both exist for a moment.
  std::set<std::string> now = first;
  for (int i = 0; i < 100 && now.count(*first.begin()) > 0; ++i) {
    std::this_thread::sleep_for(20ms);
    now = f.LockFiles();
  }
  CHECK(now.count(*first.begin()) == 0);
  // The new one is there and the old one went (a later refresh may be
  // between its two steps: then look again).
  auto locks = ListLocks(*f.repo);
  for (int i = 0; i < 5 && locks.ok() && locks->size() != 1; ++i) {
    std::this_thread::sleep_for(10ms);
    locks = ListLocks(*f.repo);
  }
  REQUIRE(locks.ok());
  REQUIRE(locks->size() == 1);
  CHECK((*locks)[0].second.time > (*first_info)[0].second.time);
  CHECK((*locks)[0].second.exclusive);

  REQUIRE((*lock)->Release().ok());
  CHECK(f.LockFiles().empty());
}

TEST_CASE("release stops the refresh thread without waiting for its interval") {
  Fixture f;  // refresh interval: one hour
  auto lock = RepositoryLock::Acquire(*f.repo, LockMode::kShared);
  REQUIRE(lock.ok());
  auto start = std::chrono::steady_clock::now();
  REQUIRE((*lock)->Release().ok());
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  CHECK(f.LockFiles().empty());
}

TEST_CASE("DescribeLock reads like restic's message") {
  LockInfo l;
  l.time = *ParseRfc3339("2022-09-01T12:00:00+02:00");
  l.hostname = "vm";
  l.username = "root";
  l.pid = 42;
  l.uid = 0;
  l.gid = 5;
  Id id = Sha256(AsBytes("x"));
  Timestamp now = l.time;
  now.seconds += 3 * 60 + 2;
  now.nanos = 500000000;
  CHECK(DescribeLock(l, id, now) ==
        "PID 42 on vm by root (UID 0, GID 5); lock was created at 2022-09-01 12:00:00 "
        "(3m2.5s ago); storage ID " + id.Short());
  now.seconds += 3600;
  now.nanos = 0;
  CHECK(DescribeLock(l, id, now).find("(1h3m2s ago)") != std::string::npos);
  CHECK(DescribeLock(l, id, l.time).find("(0s ago)") != std::string::npos);
}
