// The v1beta1 pod commands' pure parts: the BackupSession the CronJob
// creates, host stats appended once, which sessions a host owes, what a
// host restores, the hand-over between a Task's steps (output.json), the
// AppBinding's URL, the metrics text, and a dump command's exit status.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include "agent/create_backupsession.h"
#include "agent/storage_access.h"
#include "agent/v1beta1_backup.h"
#include "agent/v1beta1_job.h"
#include "agent/v1beta1_restore.h"
#include "agent/v1beta1_session.h"
#include "base/child_process.h"
#include "base/format_bytes.h"
#include "kube/object.h"
#include "storage/backends/local_backend.h"
#include "test/unit/test_util.h"

#include <unistd.h>

#include <thread>

using namespace stash;
using namespace stash::agent;

namespace {

rapidjson::Document Parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

SnapshotEntry Entry(const std::string& id_prefix, int64_t seconds, const std::string& host,
                    std::vector<std::string> paths) {
  std::string hex = id_prefix + std::string(64 - id_prefix.size(), '0');
  Snapshot s;
  s.time = Timestamp{seconds, 0};
  s.hostname = host;
  s.paths = std::move(paths);
  return {*Id::FromHex(hex), s};
}

HostStats Host(const std::string& name, const std::string& phase) {
  HostStats h;
  h.hostname = name;
  h.phase = phase;
  h.duration = "1.5s";
  return h;
}

}  // namespace

TEST_CASE("create-backupsession: name, owner, labels and spec of the session") {
  auto bc = Parse(R"({"apiVersion":"stash.appscode.com/v1beta1","kind":"BackupConfiguration",
    "metadata":{"name":"db.backup","namespace":"demo","uid":"u-1","labels":{"team":"a"}},
    "spec":{"schedule":"*/5 * * * *","repository":{"name":"r"}}})");
  auto s = Parse(BackupSessionJson(bc, 1700000000));
  CHECK(kube::StringAt(s, "/kind") == "BackupSession");
  CHECK(kube::StringAt(s, "/apiVersion") == "stash.appscode.com/v1beta1");
  CHECK(kube::Name(s) == "db.backup-1700000000");
  CHECK(kube::Namespace(s) == "demo");
  CHECK(kube::StringAt(s, "/spec/backupConfiguration/name") == "db.backup");
  auto labels = kube::Labels(s);
  CHECK(labels["team"] == "a");
  CHECK(labels["app.kubernetes.io/component"] == "stash-backup");
  CHECK(labels["app.kubernetes.io/managed-by"] == "stash.appscode.com");
  CHECK(labels["stash.appscode.com/backup-configuration"] == "db.backup");
  CHECK(kube::StringAt(s, "/metadata/ownerReferences/0/kind") == "BackupConfiguration");
  CHECK(kube::StringAt(s, "/metadata/ownerReferences/0/uid") == "u-1");
  CHECK(kube::StringAt(s, "/metadata/ownerReferences/0/name") == "db.backup");
}

TEST_CASE("host stats are appended once per hostname") {
  auto session = Parse(R"({"metadata":{"name":"s"},"status":{"phase":"Running","totalHosts":2}})");
  CHECK(AddHostStats(session, Host("host-0", "Succeeded")));
  CHECK_FALSE(AddHostStats(session, Host("host-0", "Failed")));  // never a second entry
  HostStats failed = Host("host-1", "Failed");
  failed.error = "repository /r: wrong password";
  CHECK(AddHostStats(session, failed));
  auto stats = ParseHostStats(session);
  REQUIRE(stats.size() == 2);
  CHECK(stats[0].phase == "Succeeded");
  CHECK(stats[1].error == "repository /r: wrong password");
  CHECK(HostEntry(session, "host-1").has_value());
  CHECK_FALSE(HostEntry(session, "host-2").has_value());
  CHECK(kube::StringAt(session, "/status/phase") == "Running");  // the phase is the operator's
}

TEST_CASE("a host owes a backup to Running sessions of its BackupConfiguration without its entry") {
  auto running = Parse(R"({"spec":{"backupConfiguration":{"name":"bc"}},"status":{"phase":"Running"}})");
  CHECK(SessionWantsHost(running, "bc", "host-0"));
  CHECK_FALSE(SessionWantsHost(running, "other", "host-0"));
  auto fresh = Parse(R"({"spec":{"backupConfiguration":{"name":"bc"}}})");
  CHECK_FALSE(SessionWantsHost(fresh, "bc", "host-0"));  // not Running yet
  auto done = Parse(R"({"spec":{"backupConfiguration":{"name":"bc"}},"status":{"phase":"Running",
    "stats":[{"hostname":"host-0","phase":"Succeeded"}]}})");
  CHECK_FALSE(SessionWantsHost(done, "bc", "host-0"));
  CHECK(SessionWantsHost(done, "bc", "host-1"));
  auto succeeded = Parse(R"({"spec":{"backupConfiguration":{"name":"bc"}},"status":{"phase":"Succeeded"}})");
  CHECK_FALSE(SessionWantsHost(succeeded, "bc", "host-1"));
}

TEST_CASE("the leader lease of a Deployment-like workload") {
  CHECK(BackupLeaseName("Deployment", "web") == "lock-deployment-web-backup");
  CHECK(BackupLeaseName("ReplicationController", "rc") == "lock-replicationcontroller-rc-backup");
}

TEST_CASE("restore-session: what a host restores under its rule") {
  std::vector<SnapshotEntry> snapshots = {
      Entry("aa", 100, "host-0", {"/data"}), Entry("bb", 200, "host-0", {"/data"}),
      Entry("cc", 150, "host-0", {"/logs"}), Entry("dd", 300, "host-1", {"/data"}),
  };
  RestoreRule rule;  // no paths, no snapshots: every path of the own host
  auto plan = PlanRestore(snapshots, rule, "host-0", "repo");
  REQUIRE(plan.ok());
  REQUIRE(plan->size() == 2);
  CHECK((*plan)[0].path == "/data");
  CHECK((*plan)[0].entry.first.Hex().starts_with("bb"));  // the newest
  CHECK((*plan)[1].path == "/logs");

  rule.source_host = "host-1";
  rule.paths = {"/data"};
  plan = PlanRestore(snapshots, rule, "host-0", "repo");
  REQUIRE(plan.ok());
  CHECK((*plan)[0].entry.first.Hex().starts_with("dd"));

  RestoreRule named;
  named.snapshots = {"repo-aa000000", "cc"};  // a Snapshot object's name or an id prefix
  plan = PlanRestore(snapshots, named, "host-7", "repo");
  REQUIRE(plan.ok());
  REQUIRE(plan->size() == 2);
  CHECK((*plan)[0].entry.first.Hex().starts_with("aa"));
  CHECK((*plan)[1].path == "/logs");

  RestoreRule latest;
  latest.snapshots = {"latest"};
  latest.source_host = "host-1";
  plan = PlanRestore(snapshots, latest, "host-0", "repo");
  REQUIRE(plan.ok());
  CHECK((*plan)[0].entry.first.Hex().starts_with("dd"));
  latest.source_host = "";
  CHECK((*PlanRestore(snapshots, latest, "host-0", "repo"))[0].entry.first.Hex().starts_with("bb"));
  CHECK_FALSE(PlanRestore(snapshots, latest, "host-5", "repo").ok());

  RestoreRule missing;
  auto none = PlanRestore(snapshots, missing, "host-9", "repo");
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message().find("host-9") != std::string::npos);
  missing.paths = {"/etc"};
  none = PlanRestore(snapshots, missing, "host-0", "repo");
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message().find("/etc") != std::string::npos);
  RestoreRule bad_snapshot;
  bad_snapshot.snapshots = {"ee"};
  none = PlanRestore(snapshots, bad_snapshot, "host-0", "repo");
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message().find("ee") != std::string::npos);
}

TEST_CASE("output.json hands a step's stats to update-status") {
  StepOutput out;
  HostStats h = Host("host-0", "Succeeded");
  SnapshotStats s;
  s.name = "1a2b3c4d";
  s.path = "/dumpfile.sql";
  s.size = "1.000 KiB";
  s.total_files = 1;
  h.snapshots.push_back(s);
  out.backup = h;
  out.snapshot_count = 3;
  auto back = ParseStepOutput(StepOutputJson(out), "output.json");
  REQUIRE(back.ok());
  REQUIRE(back->backup.has_value());
  CHECK_FALSE(back->restore.has_value());
  CHECK(back->backup->snapshots.at(0).name == "1a2b3c4d");
  CHECK(back->backup->snapshots.at(0).total_files == 1);
  CHECK(back->snapshot_count == 3);

  StepOutput failed;
  failed.restore = Host("host-0", "Failed");
  failed.restore->error = "Secret demo/pg has no key \"password\"";
  back = ParseStepOutput(StepOutputJson(failed), "output.json");
  REQUIRE(back.ok());
  CHECK(back->restore->error == "Secret demo/pg has no key \"password\"");

  CHECK_FALSE(ParseStepOutput("{}", "/tmp/output/output.json").ok());
  auto broken = ParseStepOutput("not json", "/tmp/output/output.json");
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().message().find("/tmp/output/output.json") != std::string::npos);

  stash::testing::TempDir dir;
  std::string sub = dir.path + "/a/b";
  CHECK(ReadStepOutput(sub).error().kind() == ErrorKind::kNotFound);
  REQUIRE(WriteStepOutput(sub, out).ok());
  CHECK(ReadStepOutput(sub)->backup->hostname == "host-0");
}

TEST_CASE("the AppBinding's clientConfig.url") {
  CHECK(*HostPortOfUrl("postgresql://127.0.0.1:5433/postgres") == std::make_pair(std::string("127.0.0.1"), std::string("5433")));
  CHECK(*HostPortOfUrl("db.demo.svc:5432") == std::make_pair(std::string("db.demo.svc"), std::string("5432")));
  CHECK(*HostPortOfUrl("postgres://db") == std::make_pair(std::string("db"), std::string()));
  CHECK(*HostPortOfUrl("tcp://[::1]:5432/x") == std::make_pair(std::string("::1"), std::string("5432")));
  CHECK_FALSE(HostPortOfUrl("postgres://").ok());
  CHECK_FALSE(HostPortOfUrl("postgres://u:p@h:1").ok());  // no user info in a clientConfig URL
}

TEST_CASE("the metrics of a host's backup, Stash 0.9's names") {
  V1beta1BackupMetrics m;
  m.success = true;
  m.duration_seconds = 2;
  m.files_total = 4;
  m.snapshot_count = 7;
  std::string text = BackupMetricsText(m);
  CHECK(text.find("stash_backup_session_success 1\n") != std::string::npos);
  CHECK(text.find("stash_backup_files_total 4\n") != std::string::npos);
  CHECK(text.find("stash_repository_snapshot_count 7\n") != std::string::npos);
  CHECK(text.find("# TYPE stash_backup_session_duration_total_seconds gauge") != std::string::npos);
  m.success = false;
  text = BackupMetricsText(m);
  CHECK(text.find("stash_backup_session_success 0\n") != std::string::npos);
  CHECK(text.find("stash_backup_files_total") == std::string::npos);
  CHECK(RestoreMetricsText(true, 1).find("stash_restore_session_success 1\n") != std::string::npos);
}

TEST_CASE("the Repository's status after a v1beta1 backup") {
  auto repo = Parse(R"({"status":{"backupCount":2}})");
  RecordV1beta1Backup(repo, std::chrono::system_clock::time_point(std::chrono::seconds(1700000000)),
                      std::chrono::milliseconds(1500), 5);
  CHECK(kube::At(repo, "/status/backupCount")->GetInt64() == 3);
  CHECK(kube::At(repo, "/status/snapshotCount")->GetInt64() == 5);
  CHECK(kube::StringAt(repo, "/status/lastBackupDuration") == "1.5s");
  CHECK(kube::StringAt(repo, "/status/lastBackupTime") == "2023-11-14T22:13:20Z");
  CHECK(FormatBytes(512) == "512 B");
  CHECK(FormatBytes(1536) == "1.500 KiB");
}

TEST_CASE("a dump command's exit status and output") {
  auto ok = SpawnChild({"sh", "-c", "printf hello"}, ChildPipe::kStdout);
  REQUIRE(ok.ok());
  char buf[16] = {};
  CHECK(::read(ok->fd, buf, sizeof buf) == 5);
  CHECK(std::string(buf) == "hello");
  CHECK(WaitChild(*ok).ok());
  auto failing = SpawnChild({"sh", "-c", "exit 3"}, ChildPipe::kStdout, {{"PGPASSWORD", "x"}});
  REQUIRE(failing.ok());
  auto status = WaitChild(*failing);
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().message() == "command sh exited with status 3");
  auto env = SpawnChild({"sh", "-c", "test \"$PGPASSWORD\" = secret"}, ChildPipe::kStdin, {{"PGPASSWORD", "secret"}});
  REQUIRE(env.ok());
  CHECK(WaitChild(*env).ok());
  auto missing = SpawnChild({"/no/such/dump-tool"}, ChildPipe::kStdout);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message().find("/no/such/dump-tool") != std::string::npos);
}

TEST_CASE("a host waits for another host's lock on the shared repository") {
  stash::testing::TempDir dir;
  InitOptions o;
  o.chunker_polynomial = 0x3DA3358B4DC173;
  o.kdf = {1024, 8, 1};
  auto repo = Repository::Init(std::make_unique<LocalBackend>(dir.path + "/repo"), "pw", o);
  REQUIRE(repo.ok());
  auto held = RepositoryLock::Acquire(**repo, LockMode::kExclusive);  // another host's prune
  REQUIRE(held.ok());
  auto at_once = AcquireLockRetrying(**repo, LockMode::kShared, std::chrono::seconds(0));
  REQUIRE_FALSE(at_once.ok());
  CHECK(at_once.error().kind() == ErrorKind::kConflict);
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    (*held)->Release();
  });
  auto waited = AcquireLockRetrying(**repo, LockMode::kShared, std::chrono::seconds(30));
  release.join();
  CHECK(waited.ok());
}
