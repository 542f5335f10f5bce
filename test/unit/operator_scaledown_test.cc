// The scale-down CronJob of an offline Restic, its service account and role
// binding, as pure functions of the Restic.
#include <catch2/catch.hpp>

#include "kube/object.h"
#include "operator/scaledown_cronjob.h"

using namespace stash;
using namespace stash::op;

namespace {

kube::ObjectPtr Parse(const std::string& json) {
  auto o = kube::ParseObject(json, "test");
  REQUIRE(o.ok());
  return *o;
}

// A Restic (JSON keeps the first of two equal keys, so type and schedule
// are parameters rather than extras).
std::string Restic(const std::string& spec_extra, const std::string& metadata_extra = "",
                   const std::string& type = "offline", const std::string& schedule = "@every 1m") {
  return R"({"apiVersion":"stash.appscode.com/v1alpha1","kind":"Restic",
    "metadata":{"name":"db-backup","namespace":"demo","uid":"u-123")" + metadata_extra + R"(},
    "spec":{"selector":{"matchLabels":{"app":"db"}},"type":")" + type + R"(","schedule":")" + schedule + R"(",
      "fileGroups":[{"path":"/data","retentionPolicyName":"keep"}],
      "backend":{"storageSecretName":"s","local":{"mountPath":"/repo","hostPath":{"path":"/backups"}}},
      "retentionPolicies":[{"name":"keep","keepLast":3}])" + spec_extra + "}}";
}

std::string Schedule(const std::string& schedule) {
  auto restic = Parse(Restic("", "", "offline", schedule));
  auto out = CronJobSchedule(*restic);
  return out.ok() ? *out : "error: " + out.error().message();
}

}  // namespace

TEST_CASE("scaledown: only an offline Restic that stays wants the CronJob") {
  CHECK(ScaledownCronJobName("db-backup") == "stash-scaledown-cron-db-backup");
  CHECK(WantsScaledownCronJob(*Parse(Restic(""))));
  CHECK_FALSE(WantsScaledownCronJob(*Parse(Restic("", "", "online"))));
  auto untyped = Parse(R"({"metadata":{"name":"r","namespace":"n"},"spec":{"schedule":"@daily"}})");
  CHECK_FALSE(WantsScaledownCronJob(*untyped));
  CHECK_FALSE(WantsScaledownCronJob(*Parse(Restic("", R"(,"deletionTimestamp":"2026-01-01T00:00:00Z")"))));
}

TEST_CASE("scaledown: the Restic's schedule as a CronJob's") {
  CHECK(Schedule("@every 1m") == "@every 1m");
  CHECK(Schedule("@daily") == "@daily");
  CHECK(Schedule("*/5 * * * *") == "*/5 * * * *");
  CHECK(Schedule("30 */5 * * * mon-fri") == "*/5 * * * mon-fri");  // seconds dropped
  CHECK(Schedule("") == "error: Restic demo/db-backup: schedule \"\" is empty; an offline Restic needs one for its "
                        "scale-down CronJob");
  CHECK(Schedule("1 2 3").find("has 3 fields") != std::string::npos);
  CHECK_FALSE(ScaledownCronJobJson(*Parse(Restic("", "", "offline", "* *")), {}).ok());
}

TEST_CASE("scaledown: the CronJob, owned by the Restic, runs stash scaledown as its own account") {
  auto restic = Parse(Restic(R"(,"paused":true,"imagePullSecrets":[{"name":"regcred"}])"));
  auto json = ScaledownCronJobJson(*restic, ScaledownOptions{"registry.example/stash:1.2"});
  REQUIRE(json.ok());
  auto cj = Parse(*json);
  CHECK(kube::StringAt(*cj, "/apiVersion") == "batch/v1");
  CHECK(kube::StringAt(*cj, "/kind") == "CronJob");
  CHECK(kube::KeyOf(*cj) == "demo/stash-scaledown-cron-db-backup");
  std::map<std::string, std::string> labels{{"app", "stash"}, {"restic", "db-backup"}, {"operation", "scale-down"}};
  CHECK(kube::Labels(*cj) == labels);
  CHECK(kube::StringAt(*cj, "/metadata/ownerReferences/0/kind") == "Restic");
  CHECK(kube::StringAt(*cj, "/metadata/ownerReferences/0/apiVersion") == "stash.appscode.com/v1alpha1");
  CHECK(kube::StringAt(*cj, "/metadata/ownerReferences/0/name") == "db-backup");
  CHECK(kube::StringAt(*cj, "/metadata/ownerReferences/0/uid") == "u-123");
  CHECK(kube::At(*cj, "/metadata/ownerReferences/0/controller")->IsTrue());
  CHECK(kube::StringAt(*cj, "/spec/schedule") == "@every 1m");
  CHECK(kube::At(*cj, "/spec/suspend")->IsTrue());
  CHECK(kube::StringAt(*cj, "/spec/concurrencyPolicy") == "Forbid");
  CHECK(kube::Labels(*kube::At(*cj, "/spec/jobTemplate")) == labels);
  const kube::Json* pod = kube::At(*cj, "/spec/jobTemplate/spec/template");
  REQUIRE(pod);
  CHECK(kube::Labels(*pod) == labels);
  CHECK(kube::StringAt(*pod, "/spec/serviceAccountName") == "stash-scaledown-cron-db-backup");
  CHECK(kube::StringAt(*pod, "/spec/restartPolicy") == "Never");
  CHECK(kube::StringAt(*pod, "/spec/imagePullSecrets/0/name") == "regcred");
  CHECK(kube::StringAt(*pod, "/spec/containers/0/name") == "stash");
  CHECK(kube::StringAt(*pod, "/spec/containers/0/image") == "registry.example/stash:1.2");
  CHECK(kube::ToJson(*kube::At(*pod, "/spec/containers/0/args")) == R"(["scaledown","--restic-name=db-backup"])");
  CHECK(kube::At(*cj, "/spec/jobTemplate/spec/backoffLimit")->GetInt() == 1);

  auto running = Parse(*ScaledownCronJobJson(*Parse(Restic("")), {}));
  CHECK(kube::At(*running, "/spec/suspend")->IsFalse());
  CHECK(kube::At(*running, "/spec/jobTemplate/spec/template/spec/imagePullSecrets") == nullptr);
  CHECK(kube::StringAt(*running, "/spec/jobTemplate/spec/template/spec/containers/0/image") == "stash:0.1.0");
}

TEST_CASE("scaledown: its service account and the binding to stash-scaledown") {
  auto restic = Parse(Restic(""));
  auto sa = Parse(ScaledownServiceAccountJson(*restic));
  CHECK(kube::StringAt(*sa, "/kind") == "ServiceAccount");
  CHECK(kube::KeyOf(*sa) == "demo/stash-scaledown-cron-db-backup");
  CHECK(kube::StringAt(*sa, "/metadata/ownerReferences/0/uid") == "u-123");
  auto rb = Parse(ScaledownRoleBindingJson(*restic));
  CHECK(kube::StringAt(*rb, "/apiVersion") == "rbac.authorization.k8s.io/v1");
  CHECK(kube::StringAt(*rb, "/kind") == "RoleBinding");
  CHECK(kube::KeyOf(*rb) == "demo/stash-scaledown-cron-db-backup");
  CHECK(kube::StringAt(*rb, "/metadata/ownerReferences/0/kind") == "Restic");
  CHECK(kube::StringAt(*rb, "/roleRef/kind") == "ClusterRole");
  CHECK(kube::StringAt(*rb, "/roleRef/name") == "stash-scaledown");
  CHECK(kube::StringAt(*rb, "/subjects/0/kind") == "ServiceAccount");
  CHECK(kube::StringAt(*rb, "/subjects/0/name") == "stash-scaledown-cron-db-backup");
  CHECK(kube::StringAt(*rb, "/subjects/0/namespace") == "demo");
}
