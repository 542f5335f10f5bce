// The sidecar's pure parts: names and labels per workload kind, the Restic
// as read, where a host's repository is, metric names and labels, the
// Repository object and the check Job; and retention on a real repository.
#include <catch2/catch.hpp>
#include <rapidjson/pointer.h>
#include <stdlib.h>

#include <filesystem>

#include "agent/check_job.h"
#include "agent/host_repository.h"
#include "agent/metrics.h"
#include "agent/repository_object.h"
#include "stashapi/restic_spec.h"
#include "agent/retention.h"
#include "agent/workload.h"
#include "engine/polynomial.h"
#include "storage/backends/local_backend.h"
#include "test/unit/test_util.h"

using namespace stash;
using namespace stash::agent;

namespace {

kube::ObjectPtr Parse(const std::string& json) {
  auto o = kube::ParseObject(json, "test");
  REQUIRE(o.ok());
  return *o;
}

Workload Make(const std::string& kind, const std::string& name, const std::string& pod = "p-0",
              const std::string& node = "n1") {
  auto w = MakeWorkload(kind, name, pod, node);
  REQUIRE(w.ok());
  return *w;
}

const char* kRestic = R"({"apiVersion":"stash.appscode.com/v1alpha1","kind":"Restic",
  "metadata":{"name":"app-backup","namespace":"demo","uid":"u-1"},
  "spec":{"schedule":"@every 1m","paused":true,
    "fileGroups":[{"path":"/data","tags":["a","b"],"retentionPolicyName":"keep"},{"path":"/etc/app"}],
    "backend":{"storageSecretName":"s","local":{"mountPath":"/safe/data","subPath":"x","hostPath":{"path":"/backups"}}},
    "imagePullSecrets":[{"name":"regcred"}],
    "retentionPolicies":[{"name":"keep","keepLast":2,"keepDaily":7,"keepTags":["t1","t2"],"prune":true}]}})";

StashBackend BackendOf(const char* type) {
  StashBackend b;
  b.type = type;
  return b;
}

std::string WithSpec(const std::string& spec) {
  return R"({"apiVersion":"stash.appscode.com/v1alpha1","kind":"Restic","metadata":{"name":"r","namespace":"demo"},"spec":)" +
         spec + "}";
}

std::string SpecError(const std::string& spec) {
  auto parsed = ParseRestic(*Parse(WithSpec(spec)));
  REQUIRE_FALSE(parsed.ok());
  return parsed.error().message();
}

}  // namespace

TEST_CASE("agent: names, labels and hosts per workload kind") {
  Workload d = Make("deployments", "app");
  CHECK(d.kind == "Deployment");
  CHECK(SnapshotHost(d) == "app");
  CHECK(SmartPrefix(d) == "deployment/app");
  CHECK(RepositoryName(d) == "deployment.app");
  CHECK(LeaderLockName(d) == "lock-deployment-app");
  CHECK(SharesRepository(d));
  CHECK(RepositoryLabels(d, "r") ==
        std::map<std::string, std::string>{{"restic", "r"}, {"workload-kind", "Deployment"}, {"workload-name", "app"}});

  Workload rc = Make("rc", "Legacy");
  CHECK(rc.kind == "ReplicationController");
  CHECK(RepositoryName(rc) == "replicationcontroller.Legacy");
  CHECK(LeaderLockName(rc) == "lock-replicationcontroller-legacy");
  CHECK(SmartPrefix(Make("rs", "app")) == "replicaset/app");

  Workload s = Make("StatefulSet", "db", "db-1");
  CHECK(SnapshotHost(s) == "db-1");
  CHECK(SmartPrefix(s) == "statefulset/db-1");
  CHECK(RepositoryName(s) == "statefulset.db-1");
  CHECK(!SharesRepository(s));
  CHECK(RepositoryLabels(s, "r").at("pod-name") == "db-1");

  Workload ds = Make("ds", "agent", "agent-xyz", "node-7");
  CHECK(SnapshotHost(ds) == "node-7");
  CHECK(SmartPrefix(ds) == "daemonset/agent/node-7");
  CHECK(RepositoryName(ds) == "daemonset.agent.node-7");
  CHECK(RepositoryLabels(ds, "r").at("node-name") == "node-7");
  CHECK(RepositoryLabels(ds, "r").count("pod-name") == 0);

  CHECK_THAT(MakeWorkload("Job", "x", "", "").error().message(), Catch::Contains("workload kind \"Job\""));
  CHECK_THAT(MakeWorkload("StatefulSet", "db", "", "n").error().message(), Catch::Contains("POD_NAME"));
  CHECK_THAT(MakeWorkload("DaemonSet", "a", "p", "").error().message(), Catch::Contains("NODE_NAME"));
  CHECK_THAT(MakeWorkload("Deployment", "", "p", "n").error().message(), Catch::Contains("workload name"));
}

TEST_CASE("agent: a Restic as read") {
  auto spec = ParseRestic(*Parse(kRestic));
  REQUIRE(spec.ok());
  CHECK(spec->ns == "demo");
  CHECK(spec->uid == "u-1");
  CHECK(spec->schedule == "@every 1m");
  CHECK(spec->paused);
  REQUIRE(spec->file_groups.size() == 2);
  CHECK(spec->file_groups[0].tags == std::vector<std::string>{"a", "b"});
  const RetentionPolicy* keep = spec->PolicyFor(spec->file_groups[0]);
  REQUIRE(keep);
  CHECK(keep->keep_last == 2);
  CHECK(keep->keep_daily == 7);
  CHECK(keep->prune);
  CHECK(spec->PolicyFor(spec->file_groups[1]) == nullptr);
  CHECK(spec->storage_secret_name == "s");
  CHECK(spec->backend.type == "local");
  CHECK(spec->backend.host_path == "/backups");
  CHECK(spec->image_pull_secrets == std::vector<std::string>{"regcred"});
}

TEST_CASE("agent: a Restic that cannot be used names the Restic and the field") {
  const std::string backend = R"("backend":{"storageSecretName":"s","local":{"mountPath":"/m"}})";
  CHECK_THAT(SpecError(R"({"fileGroups":[{"path":"/d"}],"backend":{"local":{"mountPath":"/m"}}})"),
             Catch::Contains("Restic demo/r") && Catch::Contains("missing repository secret name"));
  CHECK_THAT(SpecError(R"({"fileGroups":[{"path":"/d","retentionPolicyName":"gone"}],)" + backend + "}"),
             Catch::Contains("spec.fileGroups[0].retentionPolicyName gone is not found"));
  CHECK_THAT(SpecError(R"({"fileGroups":[{"path":"/d"}],"retentionPolicies":[{"name":"a"},{"name":"a"}],)" + backend + "}"),
             Catch::Contains("retention policy name a is not unique"));
  CHECK_THAT(SpecError(R"({"fileGroups":[{"path":"data"}],)" + backend + "}"),
             Catch::Contains("spec.fileGroups[0].path \"data\" is not an absolute path"));
  CHECK_THAT(SpecError("{" + backend + "}"), Catch::Contains("spec.fileGroups is empty"));
  CHECK_THAT(SpecError(R"({"fileGroups":[{"path":"/d"}]})"), Catch::Contains("spec.backend is missing"));
  CHECK_THAT(SpecError(R"({"fileGroups":[{"path":"/d"}],"backend":{"storageSecretName":"s"}})"),
             Catch::Contains("names no storage backend"));
}

TEST_CASE("agent: where a host's repository is, and what the Repository records") {
  StashBackend local = BackendOf("local");
  local.host_path = "/backups", local.mount_path = "/safe/data/", local.sub_path = "x";
  CHECK(*HostLocation(local, "deployment/app", {}) == "/safe/data/deployment/app");
  CHECK(FullPrefix(local, "deployment/app") == "x/deployment/app");
  local.sub_path = "";
  CHECK(FullPrefix(local, "deployment/app") == "deployment/app");
  // The Snapshot apiserver reads the Repository's hostPath/subPath: the same folder when hostPath is mounted there.
  StashBackend recorded = local;
  recorded.mount_path = "/backups";
  recorded.sub_path = FullPrefix(local, "deployment/app");
  CHECK(*LocalRepositoryPath(recorded) == "/backups/deployment/app");

  StashBackend s3 = BackendOf("s3");
  s3.endpoint = "minio:9000", s3.bucket = "bkt", s3.prefix = "/team/";
  CHECK(*HostLocation(s3, "statefulset/db-0", {}) == "s3:minio:9000/bkt/team/statefulset/db-0");
  CHECK(FullPrefix(s3, "statefulset/db-0") == "bkt/team/statefulset/db-0");
  StashBackend s3_recorded = s3;
  s3_recorded.prefix = FullPrefix(s3, "statefulset/db-0");
  s3_recorded.sidecar_created = true;
  CHECK(*RepositoryLocation(s3_recorded, {}) == *HostLocation(s3, "statefulset/db-0", {}));

  StashBackend gcs = BackendOf("gcs");
  gcs.bucket = "b", gcs.prefix = "p";
  CHECK(*HostLocation(gcs, "daemonset/a/n", {}) == "gs:b:/p/daemonset/a/n");
  CHECK(FullPrefix(gcs, "daemonset/a/n") == "p/daemonset/a/n");
  StashBackend rest = BackendOf("rest");
  rest.url = "http://h:8000/repos/";
  CHECK(*HostLocation(rest, "deployment/app", {}) == "rest:http://h:8000/repos/deployment/app/");

  CHECK_THAT(HostLocation(BackendOf("local"), "d/a", {}).error().message(), Catch::Contains("mountPath"));

  auto restic = Parse(kRestic);
  auto spec = ParseRestic(*restic);
  REQUIRE(spec.ok());
  auto backend = Parse(RepositoryBackendJson(*kube::At(*restic, "/spec/backend"), spec->backend, "deployment/app"));
  CHECK(kube::StringAt(*backend, "/local/subPath") == "x/deployment/app");
  CHECK(kube::StringAt(*backend, "/local/hostPath/path") == "/backups");
  CHECK(kube::StringAt(*backend, "/storageSecretName") == "s");
}

TEST_CASE("agent: retention policies as forget policies") {
  RetentionPolicy p;
  CHECK_FALSE(HasKeepRule(p));
  p.prune = true;
  CHECK_FALSE(HasKeepRule(p));  // prune alone: forget does not run
  p.keep_last = 2, p.keep_hourly = 3, p.keep_daily = 4, p.keep_weekly = 5, p.keep_monthly = 6, p.keep_yearly = 7;
  p.keep_tags = {"keep", "a,b"};
  ExpirePolicy e = ExpirePolicyOf(p);
  CHECK(HasKeepRule(p));
  CHECK(e.last == 2);
  CHECK(e.hourly == 3);
  CHECK(e.daily == 4);
  CHECK(e.weekly == 5);
  CHECK(e.monthly == 6);
  CHECK(e.yearly == 7);
  REQUIRE(e.tags.size() == 2);
  CHECK(e.tags[1] == TagList{"a", "b"});
  RetentionPolicy tags_only;
  tags_only.keep_tags = {"x"};
  CHECK(HasKeepRule(tags_only));
}

TEST_CASE("agent: retention applies to its own file group's snapshots only") {
  stash::testing::TempDir temp;
  const std::string& dir = temp.path;
  InitOptions init;
  init.chunker_polynomial = RandomPolynomial();
  init.kdf = {1024, 8, 1};
  auto repo = Repository::Init(std::make_unique<LocalBackend>(dir + "/repo"), "pw", init);
  REQUIRE(repo.ok());
  auto save = [&](const std::string& host, const std::string& path, int64_t at) {
    Snapshot s;
    s.time = Timestamp{at, 0, 0};
    s.paths = {path};
    s.hostname = host;
    REQUIRE((*repo)->SaveSnapshot(s).ok());
  };
  for (int i = 0; i < 4; ++i) save("app", "/data", 1700000000 + i * 60);
  for (int i = 0; i < 3; ++i) save("app", "/etc/app", 1700000000 + i * 60);
  save("other", "/data", 1700000000);

  RetentionPolicy keep2;
  keep2.keep_last = 2;
  auto result = ApplyRetention(**repo, keep2, "app", "/data/");
  REQUIRE(result.ok());
  CHECK(result->kept == 2);
  CHECK(result->removed == 2);
  auto all = (*repo)->LoadAllSnapshots();
  REQUIRE(all.ok());
  int data = 0, etc = 0, other = 0;
  for (const auto& [id, s] : *all) {
    if (s.hostname == "other") ++other;
    else if (s.paths[0] == "/data") ++data;
    else ++etc;
  }
  CHECK(data == 2);
  CHECK(etc == 3);
  CHECK(other == 1);

  RetentionPolicy dry;
  dry.keep_last = 1, dry.dry_run = true;
  result = ApplyRetention(**repo, dry, "app", "/etc/app");
  REQUIRE(result.ok());
  CHECK(result->removed == 2);
  CHECK((*repo)->LoadAllSnapshots()->size() == 6);  // nothing removed on a dry run
}

TEST_CASE("agent: session metrics as 0.8.3 named them") {
  SessionMetrics m;
  m.success = true;
  m.duration_seconds = 2.5;
  m.operations = {{"/data/www", "backup", 1.25}, {"/data/www", "forget", 0.5}};
  std::string text = MetricsText(m);
  CHECK_THAT(text, Catch::Contains("# TYPE restic_session_success gauge\nrestic_session_success 1\n"));
  CHECK_THAT(text, Catch::Contains("\nrestic_session_fail 0\n"));
  CHECK_THAT(text, Catch::Contains("\nrestic_session_duration_seconds_total 2.5\n"));
  CHECK_THAT(text, Catch::Contains("restic_session_duration_seconds{filegroup=\"|data|www\",op=\"backup\"} 1.25\n"));
  CHECK_THAT(text, Catch::Contains("restic_session_duration_seconds{filegroup=\"|data|www\",op=\"forget\"} 0.5\n"));
  m.success = false;
  m.operations.clear();
  text = MetricsText(m);
  CHECK_THAT(text, Catch::Contains("\nrestic_session_success 0\n") && Catch::Contains("\nrestic_session_fail 1\n"));
  CHECK(text.find("restic_session_duration_seconds{") == std::string::npos);

  CHECK(PushJobName("demo", "app-backup") == "demo-app-backup");
  auto pod = ParsePodLabels("app=\"web\"\npod-template-hash=\"5d9c\"\ntier.example.com/role=\"a/b \\\"c\\\"\"\n");
  CHECK(pod.at("app") == "web");
  CHECK(pod.at("tier.example.com/role") == "a/b \"c\"");
  auto labels = GroupingLabels(Make("Deployment", "web"), "demo", "app-backup", pod);
  CHECK(labels == std::map<std::string, std::string>{{"app", "web"},
                                                     {"kind", "Deployment"},
                                                     {"namespace", "demo"},
                                                     {"stash_config", "app-backup"},
                                                     {"pod_app", "web"},
                                                     {"pod_tier_example_com_role", "a|b \"c\""}});
  CHECK(PushPath("demo-app", {{"app", "web"}, {"empty", ""}, {"kind", "Deployment"}, {"x", "a|b c"}}) ==
        "/metrics/job/demo-app/app/web/empty@base64/=/kind/Deployment/x/a%7Cb%20c");
  CHECK_THAT(PushMetrics("not a url", "j", {}, "").error().message(), Catch::Contains("pushgateway url"));
}

TEST_CASE("agent: the Repository object: created, updated, counted") {
  RepositoryObject want{"demo", "deployment.app", {{"restic", "r"}, {"workload-kind", "Deployment"}},
                        R"({"storageSecretName":"s","local":{"mountPath":"/m","subPath":"deployment/app"}})"};
  auto created = Parse(RepositoryJson(want));
  CHECK(kube::StringAt(*created, "/apiVersion") == "stash.appscode.com/v1alpha1");
  CHECK(kube::StringAt(*created, "/kind") == "Repository");
  CHECK(kube::Name(*created) == "deployment.app");
  CHECK(kube::Labels(*created).at("workload-kind") == "Deployment");
  CHECK(kube::StringAt(*created, "/spec/backend/local/subPath") == "deployment/app");

  auto doc = kube::Clone(*Parse(R"({"metadata":{"name":"deployment.app","labels":{"team":"x","restic":"old"}},
    "spec":{"wipeOut":true,"backend":{"local":{"mountPath":"/old"}}}})"));
  rapidjson::Document& d = *doc;
  CHECK(UpdateRepository(d, want));
  CHECK(kube::Labels(d) == std::map<std::string, std::string>{{"team", "x"}, {"restic", "r"}, {"workload-kind", "Deployment"}});
  CHECK(kube::StringAt(d, "/spec/backend/local/mountPath") == "/m");
  CHECK(kube::At(d, "/spec/wipeOut")->GetBool());  // the user's wipeOut stays
  CHECK_FALSE(UpdateRepository(d, want));          // nothing left to change

  using namespace std::chrono;
  auto t1 = sys_days(year(2024) / 1 / 2) + hours(3);
  RecordBackup(d, t1, milliseconds(1500));
  auto t2 = t1 + minutes(1);
  RecordBackup(d, t2, nanoseconds(1834928153));
  CHECK(kube::At(d, "/status/backupCount")->GetInt64() == 2);
  CHECK(kube::StringAt(d, "/status/firstBackupTime") == "2024-01-02T03:00:00Z");
  CHECK(kube::StringAt(d, "/status/lastBackupTime") == "2024-01-02T03:01:00Z");
  CHECK(kube::StringAt(d, "/status/lastBackupDuration") == "1.834928153s");
}

TEST_CASE("agent: the check Job as 0.8.3 made it") {
  auto restic = Parse(kRestic);
  auto spec = ParseRestic(*restic);
  REQUIRE(spec.ok());
  auto job = Parse(CheckJobJson(*restic, *spec, {"app", "deployment/app", "stash:1.2", "stash-sa"}));
  CHECK(kube::Name(*job) == "stash-check-app-backup");
  CHECK(kube::Namespace(*job) == "demo");
  CHECK(kube::Labels(*job) ==
        std::map<std::string, std::string>{{"app", "stash"}, {"restic", "app-backup"}, {"operation", "check"}});
  CHECK(kube::StringAt(*job, "/metadata/ownerReferences/0/kind") == "Restic");
  CHECK(kube::StringAt(*job, "/metadata/ownerReferences/0/uid") == "u-1");
  CHECK(kube::StringAt(*job, "/spec/template/spec/restartPolicy") == "OnFailure");
  CHECK(kube::StringAt(*job, "/spec/template/spec/serviceAccountName") == "stash-sa");
  CHECK(kube::StringAt(*job, "/spec/template/spec/imagePullSecrets/0/name") == "regcred");
  const kube::Json* c = kube::At(*job, "/spec/template/spec/containers/0");
  REQUIRE(c);
  CHECK(kube::StringOf(*c, "image") == "stash:1.2");
  CHECK(kube::ToJson(*kube::At(*c, "/args")) ==
        R"(["check","--restic-name=app-backup","--host-name=app","--smart-prefix=deployment/app"])");
  CHECK(kube::StringAt(*c, "/volumeMounts/1/name") == "stash-local");
  CHECK(kube::StringAt(*c, "/volumeMounts/1/mountPath") == "/safe/data");
  CHECK(kube::StringAt(*c, "/volumeMounts/1/subPath") == "x");
  CHECK(kube::StringAt(*job, "/spec/template/spec/volumes/1/hostPath/path") == "/backups");
  CHECK(kube::At(*job, "/spec/template/spec/volumes/1/mountPath") == nullptr);

  CHECK_FALSE(JobFinished(*Parse(R"({"status":{"active":1}})")));
  CHECK(JobFinished(*Parse(R"({"status":{"conditions":[{"type":"Complete","status":"True"}]}})")));
  CHECK(JobFinished(*Parse(R"({"status":{"conditions":[{"type":"Failed","status":"True"}]}})")));
}
