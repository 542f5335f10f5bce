// The Recovery's pure parts: the Recovery and Repository as read, the Job
// built from them, the status that follows the Job, and the snapshot
// look-up before a Job is made.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "kube/object.h"
#include "operator/recovery_job.h"
#include "operator/recovery_precheck.h"
#include "operator/recovery_status.h"
#include "stashapi/recovery_spec.h"
#include "stashapi/stash_repository.h"

using namespace stash;
using namespace stash::op;

namespace {

kube::ObjectPtr Parse(const std::string& json) {
  auto o = kube::ParseObject(json, "test");
  REQUIRE(o.ok());
  return *o;
}

std::string RecoveryJson(const std::string& spec) {
  return R"({"apiVersion":"stash.appscode.com/v1alpha1","kind":"Recovery",
    "metadata":{"name":"web-restore","namespace":"demo","uid":"u-1","generation":3},"spec":)" + spec + "}";
}

const char* kGoodSpec = R"({"repository":{"name":"deployment.web","namespace":"demo"},
  "snapshot":"deployment.web-1a2b3c4d","paths":["/source/data/","/source/logs"],
  "recoveredVolumes":[{"mountPath":"/source/data","hostPath":{"path":"/restore/data"}},
                      {"mountPath":"/source","subPath":"rest","persistentVolumeClaim":{"claimName":"pvc"}}],
  "imagePullSecrets":[{"name":"regcred"}],"nodeSelector":{"disk":"ssd"}})";

const char* kRepository = R"({"apiVersion":"stash.appscode.com/v1alpha1","kind":"Repository",
  "metadata":{"name":"deployment.web","namespace":"demo",
    "labels":{"restic":"web-backup","workload-kind":"Deployment","workload-name":"web"}},
  "spec":{"backend":{"storageSecretName":"repo-secret",
    "local":{"mountPath":"/safe/data","subPath":"deployment/web","hostPath":{"path":"/backups"}}}}})";

std::string Refusal(const std::string& spec) {
  auto r = ParseRecovery(*Parse(RecoveryJson(spec)));
  REQUIRE(!r.ok());
  CHECK(r.error().kind() == ErrorKind::kInvalid);
  return r.error().message();
}

const kube::Json* Named(const kube::Json& list, const std::string& name) {
  if (!list.IsArray()) return nullptr;
  for (const auto& item : list.GetArray()) {
    if (kube::StringOf(item, "name") == name) return &item;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("recovery: a Recovery as read and checked") {
  auto spec = ParseRecovery(*Parse(RecoveryJson(kGoodSpec)));
  REQUIRE(spec.ok());
  CHECK(spec->ns == "demo");
  CHECK(spec->name == "web-restore");
  CHECK(spec->uid == "u-1");
  CHECK(spec->generation == 3);
  CHECK(spec->repository_name == "deployment.web");
  CHECK(spec->paths == std::vector<std::string>{"/source/data", "/source/logs"});  // cleaned
  REQUIRE(spec->volumes.size() == 2);
  CHECK(spec->volumes[1].sub_path == "rest");
  CHECK(spec->image_pull_secrets == std::vector<std::string>{"regcred"});
  CHECK(spec->node_selector.at("disk") == "ssd");
  // Each path lands in the deepest volume that holds it.
  CHECK(VolumeFor(*spec, "/source/data") == 0u);
  CHECK(VolumeFor(*spec, "/source/data/x") == 0u);
  CHECK(VolumeFor(*spec, "/source/logs") == 1u);
  CHECK(!VolumeFor(*spec, "/other"));
  CHECK(!VolumeFor(*spec, "/sourcefoo"));
}

TEST_CASE("recovery: bad Recoveries are refused naming the field") {
  const std::string vol = R"("recoveredVolumes":[{"mountPath":"/d","hostPath":{"path":"/r"}}])";
  const std::string repo = R"("repository":{"name":"deployment.web","namespace":"demo"})";
  CHECK(Refusal("{" + repo + "," + vol + "}").find("spec.paths is empty") != std::string::npos);
  CHECK(Refusal("{" + repo + R"(,"paths":["/d"]})").find("missing recovery volume") != std::string::npos);
  CHECK(Refusal("{" + vol + R"(,"paths":["/d"]})").find("missing repository name") != std::string::npos);
  CHECK(Refusal("{" + vol + R"(,"paths":["/d"],"repository":{"name":"web","namespace":"demo"}})")
            .find("invalid repository name") != std::string::npos);
  CHECK(Refusal("{" + vol + R"(,"paths":["/d"],"repository":{"name":"deployment.web"}})")
            .find("missing repository namespace") != std::string::npos);
  CHECK(Refusal("{" + repo + "," + vol + R"(,"paths":["d"]})").find("spec.paths[0] \"d\"") != std::string::npos);
  CHECK(Refusal("{" + repo + "," + vol + R"(,"paths":["/d/../etc"]})").find("clean absolute") != std::string::npos);
  CHECK(Refusal("{" + repo + "," + vol + R"(,"paths":["/elsewhere"]})").find("lies in no recovered volume") !=
        std::string::npos);
  CHECK(Refusal("{" + repo + R"(,"paths":["/d"],"recoveredVolumes":[{"mountPath":"/d"}]})")
            .find("names no volume source") != std::string::npos);
  CHECK(Refusal("{" + repo + R"(,"paths":["/d"],"recoveredVolumes":[{"hostPath":{"path":"/r"}}]})")
            .find("recoveredVolumes[0].mountPath") != std::string::npos);
  CHECK(Refusal("{" + repo + "," + vol + R"(,"paths":["/d"],"snapshot":"deployment.other-1a2b3c4d"})")
            .find("invalid snapshot name") != std::string::npos);
  CHECK(Refusal("{" + repo + "," + vol + R"(,"paths":["/d"],"snapshot":"deployment.web-xyz"})")
            .find("invalid snapshot name") != std::string::npos);
  CHECK(Refusal("{}").find("Recovery demo/web-restore") == 0);
}

TEST_CASE("recovery: Snapshot object names") {
  CHECK(*SnapshotShortId("deployment.web-1a2b3c4d", "deployment.web") == "1a2b3c4d");
  CHECK(!SnapshotShortId("deployment.web-1a2b3c4", "deployment.web").ok());
  CHECK(!SnapshotShortId("deployment.web-1A2B3C4D", "deployment.web").ok());
  CHECK(!SnapshotShortId("deployment.webx1a2b3c4d", "deployment.web").ok());
  CHECK(!SnapshotShortId("statefulset.web-0-1a2b3c4g", "statefulset.web-0").ok());
  CHECK(*SnapshotShortId("statefulset.web-0-00ff00ff", "statefulset.web-0") == "00ff00ff");
}

TEST_CASE("recovery: a Repository's host follows the sidecar's labels") {
  auto repo = ParseRepository(*Parse(kRepository));
  REQUIRE(repo.ok());
  CHECK(repo->host == "web");
  CHECK(repo->storage_secret_name == "repo-secret");
  CHECK(repo->backend.type == "local");
  CHECK(repo->backend.sub_path == "deployment/web");
  CHECK(repo->backend.sidecar_created);
  auto with_labels = [](const std::string& labels) {
    return ParseRepository(*Parse(R"({"metadata":{"name":"r","namespace":"n","labels":)" + labels +
                                  R"(},"spec":{"backend":{"storageSecretName":"s","s3":{"bucket":"b"}}}})"));
  };
  CHECK(with_labels(R"({"workload-kind":"StatefulSet","workload-name":"db","pod-name":"db-1"})")->host == "db-1");
  auto ds = with_labels(R"({"workload-kind":"DaemonSet","workload-name":"agent","node-name":"n7"})");
  CHECK(ds->host == "n7");
  CHECK(ds->node_name == "n7");
  CHECK(with_labels("{}")->host.empty());  // made by hand: every host
  CHECK(!with_labels(R"({"workload-kind":"StatefulSet","workload-name":"db"})").ok());
  CHECK(!with_labels(R"({"workload-kind":"CronJob","workload-name":"x"})").ok());
  CHECK(!ParseRepository(*Parse(R"({"metadata":{"name":"r"},"spec":{"backend":{"s3":{"bucket":"b"}}}})")).ok());
  CHECK(!ParseRepository(*Parse(R"({"metadata":{"name":"r"},"spec":{"backend":{"storageSecretName":"s"}}})")).ok());
}

TEST_CASE("recovery: the Job as 0.8.3 made it, with our failure handling") {
  auto recovery = Parse(RecoveryJson(kGoodSpec));
  auto repository = Parse(kRepository);
  auto spec = ParseRecovery(*recovery);
  auto repo = ParseRepository(*repository);
  REQUIRE((spec.ok() && repo.ok()));
  auto json = RecoveryJobJson(*recovery, *spec, *repository, *repo, RecoveryJobOptions{"stash:9.9"});
  REQUIRE(json.ok());
  auto job = Parse(*json);
  CHECK(kube::Name(*job) == "stash-recovery-web-restore");
  CHECK(kube::Namespace(*job) == "demo");
  CHECK(kube::Labels(*job) == std::map<std::string, std::string>{{"app", "stash"}, {"operation", "recovery"},
                                                                  {"recovery", "web-restore"}});
  CHECK(kube::StringAt(*job, "/metadata/ownerReferences/0/kind") == "Recovery");
  CHECK(kube::StringAt(*job, "/metadata/ownerReferences/0/uid") == "u-1");
  CHECK(kube::At(*job, "/metadata/ownerReferences/0/controller")->GetBool());
  CHECK(kube::Labels(*kube::At(*job, "/spec/template")).at("recovery") == "web-restore");
  CHECK(kube::At(*job, "/spec/backoffLimit")->GetInt() == 2);
  CHECK(kube::StringAt(*job, "/spec/podFailurePolicy/rules/0/action") == "FailJob");
  CHECK(kube::At(*job, "/spec/podFailurePolicy/rules/0/onExitCodes/values/0")->GetInt() == kRecoverPermanentExit);
  const kube::Json& pod = *kube::At(*job, "/spec/template/spec");
  CHECK(kube::StringOf(pod, "restartPolicy") == "Never");
  CHECK(kube::StringOf(pod, "serviceAccountName") == "stash-recovery-web-restore");
  CHECK(kube::StringAt(pod, "/imagePullSecrets/0/name") == "regcred");
  CHECK(kube::StringAt(pod, "/nodeSelector/disk") == "ssd");
  CHECK(!kube::At(pod, "/nodeName"));
  const kube::Json& c = *kube::At(pod, "/containers/0");
  CHECK(kube::StringOf(c, "name") == "stash");
  CHECK(kube::StringOf(c, "image") == "stash:9.9");
  CHECK(kube::ToJson(*kube::At(c, "/args")) == R"(["recover","--recovery-name=web-restore"])");
  CHECK(kube::StringOf(c, "terminationMessagePolicy") == "FallbackToLogsOnError");
  const kube::Json& mounts = *kube::At(c, "/volumeMounts");
  CHECK(kube::StringOf(*Named(mounts, "stash-scratchdir"), "mountPath") == "/tmp");
  CHECK(kube::StringOf(*Named(mounts, "vol-0"), "mountPath") == "/source/data");
  CHECK(kube::StringOf(*Named(mounts, "vol-1"), "subPath") == "rest");
  CHECK(kube::StringOf(*Named(mounts, "stash-local"), "mountPath") == "/safe/data");
  CHECK(kube::StringOf(*Named(mounts, "stash-local"), "subPath") == "deployment/web");
  const kube::Json& volumes = *kube::At(pod, "/volumes");
  CHECK(kube::ToJson(*Named(volumes, "vol-0")) == R"({"name":"vol-0","hostPath":{"path":"/restore/data"}})");
  CHECK(kube::ToJson(*Named(volumes, "vol-1")) == R"({"name":"vol-1","persistentVolumeClaim":{"claimName":"pvc"}})");
  CHECK(kube::ToJson(*Named(volumes, "stash-local")) == R"({"name":"stash-local","hostPath":{"path":"/backups"}})");
  CHECK(kube::At(*Named(volumes, "stash-scratchdir"), "/emptyDir"));
}

TEST_CASE("recovery: a DaemonSet's Job runs on its node; bad places are refused") {
  auto recovery = Parse(RecoveryJson(kGoodSpec));
  auto spec = ParseRecovery(*recovery);
  auto ds = Parse(R"({"metadata":{"name":"daemonset.agent.n7","namespace":"demo",
    "labels":{"workload-kind":"DaemonSet","workload-name":"agent","node-name":"n7"}},
    "spec":{"backend":{"storageSecretName":"s","s3":{"bucket":"b"}}}})");
  auto repo = ParseRepository(*ds);
  REQUIRE((spec.ok() && repo.ok()));
  auto job = Parse(*RecoveryJobJson(*recovery, *spec, *ds, *repo, {}));
  CHECK(kube::StringAt(*job, "/spec/template/spec/nodeName") == "n7");
  CHECK(!kube::At(*job, "/spec/template/spec/nodeSelector"));
  CHECK(kube::StringAt(*job, "/spec/template/spec/containers/0/image") == "stash:0.1.0");
  CHECK(!Named(*kube::At(*job, "/spec/template/spec/volumes"), "stash-local"));

  auto local = Parse(kRepository);
  auto local_repo = *ParseRepository(*local);
  auto into = [&](const std::string& path) {
    auto r = Parse(RecoveryJson(R"({"repository":{"name":"deployment.web","namespace":"demo"},"paths":[")" + path +
                                R"("],"recoveredVolumes":[{"mountPath":"/safe","hostPath":{"path":"/r"}}]})"));
    return RecoveryJobJson(*r, *ParseRecovery(*r), *local, local_repo, {});
  };
  CHECK(into("/safe/data/x").error().message().find("overlaps the local repository") != std::string::npos);
  CHECK(into("/safe").error().message().find("overlaps the local repository") != std::string::npos);
  CHECK(into("/safe/other").ok());
}

TEST_CASE("recovery: the status follows the Job") {
  auto job = [](const std::string& status) {
    return Parse(R"({"metadata":{"name":"stash-recovery-r","namespace":"demo"},"status":)" + status + "}");
  };
  CHECK(StatusFromJob(*job("{}"), "") == RecoveryStatus{"Pending", "RecoveryJobCreated",
                                                        "Recovery job stash-recovery-r created"});
  CHECK(StatusFromJob(*job(R"({"active":1,"ready":0})"), "").phase == "Pending");
  CHECK(StatusFromJob(*job(R"({"active":1,"ready":1})"), "") ==
        RecoveryStatus{"Running", "RecoveryJobRunning", "Recovery job stash-recovery-r is running"});
  CHECK(StatusFromJob(*job(R"({"conditions":[{"type":"SuccessCriteriaMet","status":"True"},
                                             {"type":"Complete","status":"True"}]})"), "") ==
        RecoveryStatus{"Succeeded", "SuccessfulRecovery", "Recovery job stash-recovery-r succeeded"});
  // A finished pod not yet counted is no longer ready: still Running.
  CHECK(StatusFromJob(*job(R"({"active":0,"ready":0,"uncountedTerminatedPods":{"succeeded":["u"]}})"), "").phase ==
        "Running");
  CHECK(StatusFromJob(*job(R"({"active":1,"ready":0,"failed":1})"), "").phase == "Running");
  // FailureTarget comes first; only Failed is the end.
  CHECK(StatusFromJob(*job(R"({"active":1,"ready":1,"conditions":[{"type":"FailureTarget","status":"True"}]})"), "")
            .phase == "Running");
  auto failed = StatusFromJob(*job(R"({"conditions":[{"type":"Failed","status":"True","reason":"PodFailurePolicy",
      "message":"Container stash for pod demo/p exited with 2"}]})"), "Fatal: wrong password");
  CHECK(failed == RecoveryStatus{"Failed", "FailedRecovery",
                                 "Recovery job stash-recovery-r failed (PodFailurePolicy: Container stash for pod "
                                 "demo/p exited with 2): Fatal: wrong password"});
  CHECK(std::string(EventType(failed)) == "Warning");
  CHECK(std::string(EventType({"Running", "", ""})) == "Normal");
  CHECK(Finished({"Failed", "", ""}));
  CHECK(Finished({"Succeeded", "", ""}));
  CHECK(!Finished({"Running", "", ""}));
  CHECK(StatusPatch({"Failed", "InvalidRecovery", "Repository demo/x not found"}, 4) ==
        R"({"status":{"phase":"Failed","reason":"InvalidRecovery","message":"Repository demo/x not found",)"
        R"("observedGeneration":4}})");
  auto recovery =
      Parse(R"({"status":{"phase":"Pending","reason":"RecoveryJobCreated","message":"m","observedGeneration":2}})");
  CHECK(CurrentStatus(*recovery) == RecoveryStatus{"Pending", "RecoveryJobCreated", "m"});
  CHECK(ObservedGeneration(*recovery) == 2);
}

TEST_CASE("recovery: why the Job's pod failed, from its termination message") {
  auto pod = [](const std::string& created, const std::string& state) {
    return Parse(R"({"metadata":{"creationTimestamp":")" + created + R"("},"status":{"containerStatuses":[
      {"name":"stash","state":)" + state + "}]}}");
  };
  std::vector<kube::ObjectPtr> pods = {
      pod("2026-01-01T00:00:01Z", R"({"terminated":{"exitCode":1,"message":"log line\nFatal: older\n"}})"),
      pod("2026-01-01T00:00:05Z", R"({"terminated":{"exitCode":2,"message":"restoring\nFatal: wrong password\n\n"}})"),
      pod("2026-01-01T00:00:09Z", R"({"running":{}})"),
      pod("2026-01-01T00:00:09Z", R"({"terminated":{"exitCode":0,"message":"done"}})")};
  CHECK(FailureDetail(pods) == "Fatal: wrong password");
  CHECK(FailureDetail({}) == "");
  std::string long_line(2000, 'x');
  CHECK(FailureDetail({pod("t", R"({"terminated":{"exitCode":1,"message":")" + long_line + R"("}})")}).size() == 515);
}

TEST_CASE("recovery: the snapshot a Recovery names is looked up by file name") {
  auto dir = std::filesystem::temp_directory_path() / ("recovery-precheck-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "snapshots");
  StashBackend local;
  local.type = "local";
  local.host_path = dir.string();
  std::string id = "1a2b3c4d" + std::string(56, '0');
  std::ofstream(dir / "snapshots" / id) << "x";
  // No config file: not a repository (yet), so nothing can be concluded.
  CHECK(LookUpSnapshot(local, {}, "1a2b3c4d").presence == SnapshotPresence::kUnknown);
  std::ofstream(dir / "config") << "x";
  CHECK(LookUpSnapshot(local, {}, "1a2b3c4d").presence == SnapshotPresence::kFound);
  auto missing = LookUpSnapshot(local, {}, "deadbeef");
  CHECK(missing.presence == SnapshotPresence::kMissing);
  CHECK(missing.detail == dir.string());
  local.host_path = (dir / "nowhere").string();
  CHECK(LookUpSnapshot(local, {}, "1a2b3c4d").presence == SnapshotPresence::kUnknown);
  std::filesystem::remove_all(dir);
}
