// The v1beta1 generation in the operator, as pure functions: the backup
// CronJob, the phase machine's decisions, the Job of a session, and the
// sidecar / init container a BackupConfiguration / RestoreSession adds
// (through the controller's ApplyClaims and the webhook).
#include <catch2/catch.hpp>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include "base/json_util.h"
#include "kube/object.h"
#include "operator/admission.h"
#include "operator/restic_match.h"
#include "operator/v1beta1_objects.h"
#include "operator/v1beta1_sidecar.h"
#include "stashapi/v1beta1_spec.h"

using namespace stash;
using namespace stash::op;

namespace {

rapidjson::Document Doc(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

kube::ObjectPtr Ptr(const std::string& text) {
  auto o = kube::ParseObject(text, "test");
  REQUIRE(o.ok());
  return *o;
}

const char* kWorkload = R"({"apiVersion":"apps/v1","kind":"Deployment",
  "metadata":{"name":"web","namespace":"demo","labels":{"app":"web"},"annotations":{"keep":"me"}},
  "spec":{"replicas":2,"template":{"metadata":{"labels":{"app":"web"}},"spec":{
    "containers":[{"name":"app","image":"busybox","volumeMounts":[{"name":"data","mountPath":"/data"}]}],
    "volumes":[{"name":"data","hostPath":{"path":"/srv/web"}}]}}}})";

std::string Bc(const std::string& name, const std::string& schedule = "*/5 * * * *",
               const std::string& target = "web", const std::string& mount = "data") {
  return R"({"apiVersion":"stash.appscode.com/v1beta1","kind":"BackupConfiguration",
    "metadata":{"name":")" + name + R"(","namespace":"demo","uid":"bc-uid"},
    "spec":{"schedule":")" + schedule + R"(","repository":{"name":"repo"},
      "target":{"ref":{"apiVersion":"apps/v1","kind":"Deployment","name":")" + target + R"("},
        "paths":["/data"],"volumeMounts":[{"name":")" + mount + R"(","mountPath":"/data"}]},
      "retentionPolicy":{"name":"k","keepLast":5,"prune":true}}})";
}

const char* kRestore = R"({"apiVersion":"stash.appscode.com/v1beta1","kind":"RestoreSession",
  "metadata":{"name":"rs","namespace":"demo"},
  "spec":{"repository":{"name":"repo"},"target":{"ref":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},
    "volumeMounts":[{"name":"data","mountPath":"/data"}]},"rules":[{"paths":["/data"]}]}})";

const char* kRepo = R"({"metadata":{"name":"repo","namespace":"demo"},"spec":{"backend":{"storageSecretName":"s",
  "local":{"mountPath":"/safe","subPath":"x","hostPath":{"path":"/backups"}}}}})";

std::vector<std::string> Names(const rapidjson::Value& doc, const char* pointer) {
  std::vector<std::string> out;
  for (const auto* c : json::ArrayAt(doc, pointer)) out.push_back(json::StringOr(*c, "name"));
  return out;
}

const rapidjson::Value* Named(const rapidjson::Value& doc, const char* pointer, const std::string& name) {
  for (const auto* c : json::ArrayAt(doc, pointer)) {
    if (json::StringOr(*c, "name") == name) return c;
  }
  return nullptr;
}

StashListers Listers(std::vector<std::string> bcs, std::vector<std::string> restores = {},
                     std::vector<std::string> restics = {}, bool repo = true) {
  StashListers l;
  auto objects = [](std::vector<std::string> texts) {
    std::vector<kube::ObjectPtr> out;
    for (const auto& t : texts) out.push_back(Ptr(t));
    return [out](const std::string&) { return out; };
  };
  l.backup_configurations = objects(bcs);
  l.restore_sessions = objects(restores);
  l.restics = objects(restics);
  kube::ObjectPtr r = repo ? Ptr(kRepo) : nullptr;
  l.repository = [r](const std::string&, const std::string& name) { return name == "repo" ? r : nullptr; };
  return l;
}

TEST_CASE("v1beta1: the CronJob schedule") {
  CHECK(*BackupCronSchedule("*/5 * * * *") == "*/5 * * * *");
  CHECK(*BackupCronSchedule("@hourly") == "@hourly");
  CHECK(*BackupCronSchedule("@daily") == "@daily");
  CHECK(*BackupCronSchedule("@every 1m") == "* * * * *");
  CHECK(*BackupCronSchedule("@every 15m") == "*/15 * * * *");
  CHECK(*BackupCronSchedule("@every 1h") == "0 * * * *");
  for (const char* bad : {"@every 7m", "@every 90s", "@every 2h", "0 */5 * * * *", "61 * * * *", "", "@sometimes",
                          "not a schedule"}) {
    CAPTURE(bad);
    auto s = BackupCronSchedule(bad);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().message().find(std::string("\"") + bad + "\"") != std::string::npos);
  }
}

TEST_CASE("v1beta1: the CronJob of a BackupConfiguration") {
  auto bc = Doc(Bc("my.bc", "@every 5m"));
  auto json = BackupCronJobJson(bc, "registry/stash:1");
  REQUIRE(json.ok());
  auto c = Doc(*json);
  CHECK(json::StringAt(c, "/metadata/name") == "my-bc");
  CHECK(json::StringAt(c, "/metadata/namespace") == "demo");
  CHECK(json::StringAt(c, "/metadata/ownerReferences/0/kind") == "BackupConfiguration");
  CHECK(json::StringAt(c, "/metadata/ownerReferences/0/uid") == "bc-uid");
  CHECK(json::StringAt(c, "/spec/schedule") == "*/5 * * * *");
  CHECK(json::StringAt(c, "/spec/concurrencyPolicy") == "Forbid");
  CHECK(json::StringAt(c, "/spec/jobTemplate/metadata/labels/stash.appscode.com~1delete-job-on-completion") == "true");
  const auto& pod = *json::At(c, "/spec/jobTemplate/spec/template/spec");
  CHECK(json::StringOr(pod, "restartPolicy") == "Never");
  CHECK(json::StringOr(pod, "serviceAccountName") == "stash-v1beta1");
  CHECK(Names(pod, "/containers") == std::vector<std::string>{"stash"});
  CHECK(json::StringAt(pod, "/containers/0/image") == "registry/stash:1");
  CHECK(json::Strings(*json::At(pod, "/containers/0"), "args") ==
        std::vector<std::string>{"create-backupsession", "--backupsession.name=my.bc", "--backupsession.namespace=demo"});
  auto bad = Doc(Bc("b", "@every 7m"));
  CHECK_FALSE(BackupCronJobJson(bad, "x").ok());
}

TEST_CASE("v1beta1: hosts, completion and the status patch") {
  CHECK(TotalHosts("Deployment", nullptr) == 1);
  auto sts = Doc(R"({"spec":{"replicas":3}})");
  CHECK(TotalHosts("StatefulSet", &sts) == 3);
  auto ds = Doc(R"({"status":{"desiredNumberScheduled":4}})");
  CHECK(TotalHosts("DaemonSet", &ds) == 4);
  auto dep = Doc(R"({"spec":{"replicas":5}})");
  CHECK(TotalHosts("Deployment", &dep) == 1);

  auto running = Doc(R"({"status":{"phase":"Running","totalHosts":2,"stats":[
    {"hostname":"host-0","phase":"Succeeded","duration":"1.5s"}]}})");
  auto state = ReadSessionState(running);
  CHECK(state.phase == "Running");
  CHECK(*state.total_hosts == 2);
  CHECK_FALSE(CompletedPhase(state));
  auto two = Doc(R"({"status":{"phase":"Running","totalHosts":2,"stats":[
    {"hostname":"host-0","phase":"Succeeded","duration":"1.5s"},{"hostname":"host-1","phase":"Succeeded","duration":"1m"}]}})");
  auto done = ReadSessionState(two);
  CHECK(*CompletedPhase(done) == "Succeeded");
  CHECK(SessionDuration(done.stats) == "1m1.5s");
  auto failed = Doc(R"({"status":{"phase":"Running","totalHosts":1,"stats":[{"hostname":"host-0","phase":"Failed","error":"x"}]}})");
  CHECK(*CompletedPhase(ReadSessionState(failed)) == "Failed");
  auto fresh = Doc(R"({"status":{}})");
  CHECK_FALSE(CompletedPhase(ReadSessionState(fresh)));
  for (const char* p : {"Succeeded", "Failed", "Skipped"}) CHECK(SessionFinished(p));
  CHECK_FALSE(SessionFinished("Running"));
  CHECK_FALSE(SessionFinished(""));

  auto patch = Doc(SessionStatusPatch({"Failed", std::nullopt, "", "RepositoryNotFound", "Repository demo/r not found"}));
  CHECK(json::StringAt(patch, "/status/phase") == "Failed");
  CHECK(json::StringAt(patch, "/status/conditions/0/reason") == "RepositoryNotFound");
  CHECK(json::StringAt(patch, "/status/conditions/0/message") == "Repository demo/r not found");
  auto run = Doc(SessionStatusPatch({"Running", 3, "", "", ""}));
  CHECK(json::At(run, "/status/totalHosts")->GetInt() == 3);
  CHECK_FALSE(json::At(run, "/status/conditions"));
}

TEST_CASE("v1beta1: the Job of a session and why it failed") {
  auto session = Doc(R"({"metadata":{"name":"pg-1","namespace":"demo","uid":"s-uid"}})");
  auto job = Doc(TaskJobJson(session, kBackupSessions, "stash-backup-pg-1", {{kBackupConfigurationLabel, "pg"}},
                             R"({"restartPolicy":"Never","containers":[{"name":"a","image":"i"}]})"));
  CHECK(json::StringAt(job, "/metadata/name") == "stash-backup-pg-1");
  CHECK(json::StringAt(job, "/metadata/ownerReferences/0/kind") == "BackupSession");
  CHECK(json::StringAt(job, "/metadata/labels/stash.appscode.com~1delete-job-on-completion") == "false");
  CHECK(json::StringAt(job, "/spec/template/spec/containers/0/name") == "a");

  auto failed_job = Doc(R"({"metadata":{"name":"j"},"status":{"conditions":[{"type":"Failed","status":"True",
    "message":"Job has reached the specified backoff limit"}]}})");
  CHECK(JobConditionTrue(failed_job, "Failed"));
  CHECK_FALSE(JobConditionTrue(failed_job, "Complete"));
  CHECK(JobFailure(failed_job, {}) == "Job has reached the specified backoff limit");
  auto pod = Ptr(R"({"metadata":{"name":"p"},"status":{"initContainerStatuses":[
    {"name":"pg-backup-0","state":{"terminated":{"exitCode":1,"message":"starting\nmissing key password in Secret demo/pg\n"}}}]}})");
  CHECK(JobFailure(failed_job, {pod}) == "missing key password in Secret demo/pg");
  auto silent = Ptr(R"({"metadata":{"name":"p"},"status":{"containerStatuses":[
    {"name":"update-status-1","state":{"terminated":{"exitCode":3}}}]}})");
  CHECK(JobFailure(failed_job, {silent}) == "container update-status-1 exited with 3");
}

TEST_CASE("v1beta1: a BackupConfiguration's sidecar, added once and taken out") {
  auto w = Doc(kWorkload);
  auto listers = Listers({Bc("bc")});
  auto claims = ClaimsOn(listers, w, "Deployment");
  REQUIRE(claims.backup_configurations.size() == 1);
  std::vector<std::string> warnings;
  auto changed = ApplyClaims(w, "Deployment", claims, listers, SidecarOptions{"stash:9", "http://pgw:9091"}, &warnings);
  REQUIRE(changed.ok());
  CHECK(*changed);
  CHECK(warnings.empty());
  CHECK(Names(w, "/spec/template/spec/containers") == std::vector<std::string>{"app", "stash"});
  const auto* stash = Named(w, "/spec/template/spec/containers", "stash");
  REQUIRE(stash);
  CHECK(json::Strings(*stash, "args") ==
        std::vector<std::string>{"run-backup", "--backupconfiguration=bc", "--target-kind=Deployment",
                                 "--target-name=web", "--pushgateway-url=http://pgw:9091"});
  CHECK(Names(*stash, "/env") == std::vector<std::string>{"NODE_NAME", "POD_NAME", "NAMESPACE"});
  CHECK(Names(*stash, "/volumeMounts") == std::vector<std::string>{"data", "tmp-dir", "stash-podinfo", "stash-local"});
  CHECK(json::At(*stash, "/volumeMounts/0/readOnly")->GetBool());
  CHECK(json::StringAt(*stash, "/volumeMounts/3/mountPath") == "/safe");
  CHECK(json::StringAt(*stash, "/volumeMounts/3/subPath") == "x");
  CHECK(Names(w, "/spec/template/spec/volumes") == std::vector<std::string>{"data", "tmp-dir", "stash-podinfo", "stash-local"});
  CHECK(json::StringAt(w, "/spec/template/spec/volumes/3/hostPath/path") == "/backups");
  CHECK(AppliedBackupConfiguration(w) == "bc");
  CHECK(kube::Annotations(w).count(kLastAppliedBackupConfigurationHash) == 1);
  // Twice: nothing changes.
  auto again = ApplyClaims(w, "Deployment", claims, listers, SidecarOptions{"stash:9", "http://pgw:9091"}, &warnings);
  REQUIRE(again.ok());
  CHECK_FALSE(*again);
  // The BackupConfiguration gone: everything ours goes, the rest stays.
  auto none = Listers({});
  auto removed = ApplyClaims(w, "Deployment", ClaimsOn(none, w, "Deployment"), none, {}, &warnings);
  REQUIRE(removed.ok());
  CHECK(*removed);
  CHECK(kube::ToJson(w) == kube::ToJson(Doc(kWorkload)));
}

TEST_CASE("v1beta1: conflicts and bad input get no sidecar") {
  auto w = Doc(kWorkload);
  std::vector<std::string> warnings;
  auto two = Listers({Bc("a"), Bc("b")});
  auto changed = ApplyClaims(w, "Deployment", ClaimsOn(two, w, "Deployment"), two, {}, &warnings);
  REQUIRE(changed.ok());
  CHECK_FALSE(*changed);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("BackupConfiguration a, BackupConfiguration b all back up this Deployment") != std::string::npos);

  const std::string restic = R"({"metadata":{"name":"r","namespace":"demo"},"spec":{"selector":{"matchLabels":{"app":"web"}}}})";
  auto mixed = Listers({Bc("a")}, {}, {restic});
  warnings.clear();
  changed = ApplyClaims(w, "Deployment", ClaimsOn(mixed, w, "Deployment"), mixed, {}, &warnings);
  REQUIRE(changed.ok());
  CHECK_FALSE(*changed);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("Restic r, BackupConfiguration a") != std::string::npos);

  auto other = Listers({Bc("a", "@hourly", "other")});
  CHECK(ClaimsOn(other, w, "Deployment").backup_configurations.empty());

  auto no_volume = Listers({Bc("a", "@hourly", "web", "nope")});
  auto r = ApplyClaims(w, "Deployment", ClaimsOn(no_volume, w, "Deployment"), no_volume, {}, &warnings);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message().find("volume \"nope\"") != std::string::npos);

  auto no_repo = Listers({Bc("a")}, {}, {}, false);
  r = ApplyClaims(w, "Deployment", ClaimsOn(no_repo, w, "Deployment"), no_repo, {}, &warnings);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message().find("Repository demo/repo") != std::string::npos);
}

TEST_CASE("v1beta1: a RestoreSession's init container beside the sidecar") {
  auto w = Doc(kWorkload);
  rapidjson::Pointer("/spec/template/spec/initContainers").Set(w, Doc(R"([{"name":"prepare","image":"x"}])"));
  auto listers = Listers({Bc("bc")}, {kRestore});
  std::vector<std::string> warnings;
  auto changed = ApplyClaims(w, "Deployment", ClaimsOn(listers, w, "Deployment"), listers, {}, &warnings);
  REQUIRE(changed.ok());
  CHECK(*changed);
  CHECK(Names(w, "/spec/template/spec/initContainers") == std::vector<std::string>{"stash-init", "prepare"});
  const auto* init = Named(w, "/spec/template/spec/initContainers", "stash-init");
  CHECK(json::Strings(*init, "args") == std::vector<std::string>{"restore-session", "--restoresession=rs",
                                                                  "--target-kind=Deployment", "--target-name=web"});
  CHECK_FALSE(json::At(*init, "/volumeMounts/0/readOnly"));
  CHECK(AppliedRestoreSession(w) == "rs");
  CHECK(Names(w, "/spec/template/spec/volumes") == std::vector<std::string>{"data", "tmp-dir", "stash-podinfo", "stash-local"});
  // The RestoreSession gone: its init container goes, the sidecar and its volumes stay.
  auto backup_only = Listers({Bc("bc")});
  changed = ApplyClaims(w, "Deployment", ClaimsOn(backup_only, w, "Deployment"), backup_only, {}, &warnings);
  REQUIRE(changed.ok());
  CHECK(*changed);
  CHECK(Names(w, "/spec/template/spec/initContainers") == std::vector<std::string>{"prepare"});
  CHECK(Names(w, "/spec/template/spec/volumes") == std::vector<std::string>{"data", "tmp-dir", "stash-podinfo", "stash-local"});
  CHECK(AppliedRestoreSession(w).empty());
  CHECK(AppliedBackupConfiguration(w) == "bc");
}

TEST_CASE("v1beta1: the webhook adds the sidecar of a BackupConfiguration") {
  std::string review = R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-1",
    "kind":{"group":"apps","version":"v1","kind":"Deployment"},"namespace":"demo","operation":"CREATE","object":)" +
                       std::string(kWorkload) + "}}";
  auto outcome = ReviewWorkload(review, Listers({Bc("bc")}), SidecarOptions{});
  REQUIRE(outcome.ok());
  CHECK(outcome->patched);
  auto none = ReviewWorkload(review, Listers({}), SidecarOptions{});
  REQUIRE(none.ok());
  CHECK_FALSE(none->patched);
}

TEST_CASE("v1beta1: a BackupConfigurationTemplate made into a Repository and a BackupConfiguration") {
  auto tmpl = Doc(R"({"metadata":{"name":"daily"},"spec":{
    "backend":{"storageSecretName":"s","gcs":{"bucket":"b","prefix":"stash/${TARGET_NAMESPACE}/${TARGET_KIND}/${TARGET_NAME}"}},
    "schedule":"@daily","retentionPolicy":{"name":"k","keepLast":7,"prune":true}}})");
  auto w = Doc(kWorkload);
  rapidjson::Pointer("/metadata/annotations/stash.appscode.com~1backup-blueprint").Set(w, "daily");
  rapidjson::Pointer("/metadata/annotations/stash.appscode.com~1target-paths").Set(w, "/data,/more");
  rapidjson::Pointer("/metadata/annotations/stash.appscode.com~1volume-mounts").Set(w, "data:/data");
  rapidjson::Pointer("/metadata/uid").Set(w, "w-uid");
  CHECK(TemplateOf(w) == "daily");
  auto objects = AutoBackupObjects(tmpl, w, "Deployment");
  REQUIRE(objects.ok());
  auto repo = Doc(objects->repository_json);
  CHECK(json::StringAt(repo, "/metadata/name") == "deployment-web");
  CHECK(json::StringAt(repo, "/spec/backend/gcs/prefix") == "stash/demo/deployment/web");
  CHECK_FALSE(json::At(repo, "/metadata/ownerReferences"));  // kept when the annotation goes
  auto bc = Doc(objects->backup_configuration_json);
  CHECK(json::StringAt(bc, "/metadata/name") == "deployment-web");
  CHECK(json::StringAt(bc, "/metadata/ownerReferences/0/uid") == "w-uid");
  CHECK(json::StringAt(bc, "/spec/schedule") == "@daily");
  CHECK(json::StringAt(bc, "/spec/repository/name") == "deployment-web");
  CHECK(json::StringAt(bc, "/spec/target/ref/kind") == "Deployment");
  CHECK(json::Strings(*json::At(bc, "/spec/target"), "paths") == std::vector<std::string>{"/data", "/more"});
  CHECK(json::StringAt(bc, "/spec/target/volumeMounts/0/mountPath") == "/data");
  CHECK(json::At(bc, "/spec/retentionPolicy/keepLast")->GetInt() == 7);
  auto parsed = ParseBackupConfiguration(bc);
  CHECK(parsed.ok());

  // The pre-rc.0 name wins when both are there.
  rapidjson::Pointer("/metadata/annotations/stash.appscode.com~1backup-template").Set(w, "old");
  CHECK(TemplateOf(w) == "old");
  rapidjson::Pointer("/metadata/annotations/stash.appscode.com~1volume-mounts").Set(w, "data");
  auto bad = AutoBackupObjects(tmpl, w, "Deployment");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message().find("use 'vol1Name:mountPath,vol2Name:mountPath' format") != std::string::npos);
  auto unresolved = Doc(R"({"metadata":{"name":"t"},"spec":{"backend":{"local":{"mountPath":"/${NOPE}"}},"schedule":"@daily"}})");
  rapidjson::Pointer("/metadata/annotations/stash.appscode.com~1volume-mounts").Set(w, "data:/data");
  auto missing = AutoBackupObjects(unresolved, w, "Deployment");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message().find("BackupConfigurationTemplate t") != std::string::npos);
  CHECK(missing.error().message().find("NOPE") != std::string::npos);
}

}  // namespace
