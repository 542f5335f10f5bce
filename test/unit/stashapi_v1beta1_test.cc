// The v1beta1 objects as read by stashapi/v1beta1_spec.h.
#include <catch2/catch.hpp>

#include "base/json_util.h"
#include "stashapi/v1beta1_spec.h"

namespace stash {
namespace {

rapidjson::Document Doc(const std::string& text) {
  auto doc = json::Parse(text, "test object");
  REQUIRE(doc.ok());
  return std::move(*doc);
}

TEST_CASE("a BackupConfiguration with a workload target and retention") {
  auto doc = Doc(R"({"metadata":{"namespace":"demo","name":"bc","uid":"u1"},
    "spec":{"schedule":"*/5 * * * *","repository":{"name":"repo"},
      "task":{"name":"pg-backup","params":[{"name":"a","value":"1"}]},
      "target":{"ref":{"apiVersion":"apps/v1","kind":"Deployment","name":"app"},"paths":["/data"],
                "volumeMounts":[{"name":"data","mountPath":"/data"}]},
      "retentionPolicy":{"name":"keep","keepLast":5,"prune":true},"paused":true}})");
  auto bc = ParseBackupConfiguration(doc);
  REQUIRE(bc.ok());
  CHECK(bc->ns == "demo");
  CHECK(bc->schedule == "*/5 * * * *");
  CHECK(bc->driver == "Restic");
  CHECK(bc->repository_name == "repo");
  CHECK(bc->task.name == "pg-backup");
  REQUIRE(bc->task.params.size() == 1);
  CHECK(bc->task.params[0] == std::make_pair(std::string("a"), std::string("1")));
  REQUIRE(bc->target);
  CHECK(bc->target->ref.kind == "Deployment");
  CHECK(bc->target->paths == std::vector<std::string>{"/data"});
  CHECK(bc->target->volume_mounts_json == R"([{"name":"data","mountPath":"/data"}])");
  CHECK(bc->retention.keep_last == 5);
  CHECK(bc->retention.prune);
  CHECK(bc->paused);
}

TEST_CASE("a BackupConfiguration without schedule or repository is refused by name") {
  auto doc = Doc(R"({"metadata":{"namespace":"demo","name":"bc"},"spec":{"repository":{"name":"r"}}})");
  auto bc = ParseBackupConfiguration(doc);
  REQUIRE(!bc.ok());
  CHECK(bc.error().kind() == ErrorKind::kInvalid);
  CHECK_THAT(bc.error().message(), Catch::Contains("BackupConfiguration demo/bc") && Catch::Contains("schedule"));
  auto doc2 = Doc(R"({"metadata":{"namespace":"demo","name":"bc"},"spec":{"schedule":"@every 1m"}})");
  CHECK_THAT(ParseBackupConfiguration(doc2).error().message(), Catch::Contains("spec.repository.name"));
}

TEST_CASE("restore rules: a named host wins, else the last rule for every host") {
  auto doc = Doc(R"({"metadata":{"namespace":"demo","name":"rs"},"spec":{"repository":{"name":"r"},
    "rules":[{"paths":["/a"]},{"targetHosts":["host-1"],"sourceHost":"host-0","paths":["/b"]},{"snapshots":["s1"]}]}})");
  auto rs = ParseRestoreSession(doc);
  REQUIRE(rs.ok());
  REQUIRE(rs->RuleFor("host-1"));
  CHECK(rs->RuleFor("host-1")->paths == std::vector<std::string>{"/b"});
  CHECK(rs->RuleFor("host-1")->source_host == "host-0");
  CHECK(rs->RuleFor("host-2")->snapshots == std::vector<std::string>{"s1"});
  auto bad = Doc(R"({"metadata":{"namespace":"demo","name":"rs"},"spec":{"repository":{"name":"r"},
    "rules":[{"paths":["/a"],"snapshots":["x"]}]}})");
  CHECK_THAT(ParseRestoreSession(bad).error().message(), Catch::Contains("both snapshots and paths"));
}

TEST_CASE("host stats are written and read back") {
  HostStats h{"host-0", "Succeeded", "3s", "", {{"1a2b3c4d", "/data", "1.2 MiB", "300 KiB", "1.5s", 10, 2, 3, 5}}};
  auto doc = Doc(R"({"status":{"stats":[)" + HostStatsJson(h) + "]}}");
  auto back = ParseHostStats(doc);
  REQUIRE(back.size() == 1);
  CHECK(back[0].hostname == "host-0");
  CHECK(back[0].duration == "3s");
  REQUIRE(back[0].snapshots.size() == 1);
  CHECK(back[0].snapshots[0].name == "1a2b3c4d");
  CHECK(back[0].snapshots[0].processing_time == "1.5s");
  CHECK(back[0].snapshots[0].modified_files == 3);
}

TEST_CASE("v1beta1 host names") {
  CHECK(*V1beta1Hostname("Deployment", "app-5d9f-abcde", "node-1") == "host-0");
  CHECK(*V1beta1Hostname("AppBinding", "", "") == "host-0");
  CHECK(*V1beta1Hostname("StatefulSet", "db-2", "") == "host-2");
  CHECK(*V1beta1Hostname("DaemonSet", "", "node-1") == "node-1");
  CHECK_THAT(V1beta1Hostname("StatefulSet", "", "").error().message(), Catch::Contains("POD_NAME"));
}

}  // namespace
}  // namespace stash
