// The Recovery Job's pure parts: which snapshot each path comes from,
// where the path is in its tree, the stats it records, and which failures
// a retry can fix.
#include <catch2/catch.hpp>

#include "agent/recovery.h"
#include "agent/recovery_snapshot.h"

using namespace stash;
using namespace stash::agent;

namespace {

SnapshotEntry Entry(const std::string& id_prefix, int64_t seconds, const std::string& host,
                    std::vector<std::string> paths) {
  std::string hex = id_prefix + std::string(64 - id_prefix.size(), '0');
  Snapshot s;
  s.time = Timestamp{seconds, 0};
  s.hostname = host;
  s.paths = std::move(paths);
  return {*Id::FromHex(hex), s};
}

}  // namespace

TEST_CASE("recover: the newest snapshot of the host holding the path") {
  std::vector<SnapshotEntry> snapshots = {
      Entry("aa", 100, "web", {"/data"}),       Entry("bb", 300, "web", {"/data"}),
      Entry("cc", 200, "web", {"/logs"}),       Entry("dd", 900, "other", {"/data"}),
      Entry("ee", 250, "web", {"/data", "/x"}),
  };
  CHECK(ChooseSnapshot(snapshots, "", "web", "/data")->first.Hex().starts_with("bb"));
  CHECK(ChooseSnapshot(snapshots, "", "web", "/logs")->first.Hex().starts_with("cc"));
  CHECK(ChooseSnapshot(snapshots, "", "", "/data")->first.Hex().starts_with("dd"));  // no host: every host
  auto none = ChooseSnapshot(snapshots, "", "web", "/etc");
  REQUIRE(!none.ok());
  CHECK(none.error().kind() == ErrorKind::kNotFound);
  CHECK(none.error().message() == "no snapshot of host web holds /etc");
}

TEST_CASE("recover: a named snapshot serves every path") {
  std::vector<SnapshotEntry> snapshots = {Entry("1a2b3c4d", 100, "web", {"/data"}),
                                          Entry("1a2b3c4e", 200, "web", {"/data"}),
                                          Entry("77", 50, "x", {"/data"}), Entry("7711", 60, "x", {"/data"})};
  CHECK(ChooseSnapshot(snapshots, "1a2b3c4d", "web", "/logs")->first.Hex().starts_with("1a2b3c4d"));
  auto missing = ChooseSnapshot(snapshots, "deadbeef", "web", "/data");
  CHECK(missing.error().kind() == ErrorKind::kNotFound);
  CHECK(missing.error().message().find("deadbeef") != std::string::npos);
  CHECK(ChooseSnapshot(snapshots, "77", "", "/data").error().kind() == ErrorKind::kConflict);
}

TEST_CASE("recover: where a path lies in a snapshot's tree") {
  CHECK(SubtreeCandidates("/source/data") == std::vector<std::string>{"/source/data", "/data"});
  CHECK(SubtreeCandidates("/data") == std::vector<std::string>{"/data"});
  CHECK(SubtreeCandidates("/") == std::vector<std::string>{"/"});
}

TEST_CASE("recover: stats as 0.8.3 recorded them, and which failures may pass") {
  std::vector<PathOutcome> outcomes(2);
  outcomes[0].path = "/data";
  outcomes[0].took = std::chrono::milliseconds(1500);
  outcomes[1].path = "/logs";
  outcomes[1].status = NotFound("no snapshot holds /logs");
  outcomes[1].took = std::chrono::microseconds(20);
  CHECK(StatsPatch(outcomes) ==
        R"({"status":{"stats":[{"path":"/data","phase":"Succeeded","duration":"1.5s"},)"
        R"({"path":"/logs","phase":"Failed","duration":"20µs"}]}})");
  CHECK(RetryCanHelp(IOError("connection refused")));
  CHECK(RetryCanHelp(Conflict("repository is already locked")));
  CHECK(!RetryCanHelp(AuthError("wrong password or no key found")));
  CHECK(!RetryCanHelp(NotFound("snapshot")));
  CHECK(!RetryCanHelp(Invalid("bad")));
  CHECK(!RetryCanHelp(Corrupt("ciphertext verification failed")));
}
