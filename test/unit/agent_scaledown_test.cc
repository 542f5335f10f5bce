// The pure parts of `stash scaledown`: which workloads carry a Restic's
// init container, the replica count to restore and its annotation, pods
// that count as ready, and controller ownership.
#include <catch2/catch.hpp>

#include "agent/scaledown.h"
#include "kube/object.h"

using namespace stash;
using namespace stash::agent;

namespace {

kube::ObjectPtr Parse(const std::string& json) {
  auto o = kube::ParseObject(json, "test");
  REQUIRE(o.ok());
  return *o;
}

std::string Deployment(const std::string& annotations, const std::string& spec = R"("replicas":2)") {
  return R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"demo",
    "annotations":{)" + annotations + R"(}},"spec":{)" + spec + "}}";
}

const char* kApplied = R"("restic.appscode.com/last-applied-configuration":
  "{\"apiVersion\":\"stash.appscode.com/v1alpha1\",\"kind\":\"Restic\",\"metadata\":{\"name\":\"web-backup\",\"namespace\":\"demo\"},\"spec\":{\"type\":\"offline\"}}")";

std::string Pod(const std::string& phase, const std::string& ready, const std::string& extra_metadata = "") {
  return R"({"metadata":{"name":"p","namespace":"demo")" + extra_metadata + R"(},"status":{"phase":")" + phase +
         R"(","conditions":[{"type":"Initialized","status":"True"},{"type":"Ready","status":")" + ready + R"("}]}})";
}

}  // namespace

TEST_CASE("scaledown: a workload carries the Restic its annotation names") {
  CHECK(CarriesSidecarOf(*Parse(Deployment(kApplied)), "web-backup"));
  CHECK_FALSE(CarriesSidecarOf(*Parse(Deployment(kApplied)), "web"));
  CHECK_FALSE(CarriesSidecarOf(*Parse(Deployment("")), "web-backup"));
  CHECK_FALSE(CarriesSidecarOf(
      *Parse(Deployment(R"("restic.appscode.com/last-applied-configuration":"not json")")), "web-backup"));
}

TEST_CASE("scaledown: kinds restarted by scaling and by deleting pods") {
  CHECK(RestartsByScaling("Deployment"));
  CHECK(RestartsByScaling("ReplicaSet"));
  CHECK(RestartsByScaling("ReplicationController"));
  CHECK_FALSE(RestartsByScaling("StatefulSet"));
  CHECK_FALSE(RestartsByScaling("DaemonSet"));
}

TEST_CASE("scaledown: the count to restore comes from old-replica when an earlier run left it") {
  CHECK(*OriginalReplicas(*Parse(Deployment(""))) == 2);
  CHECK(*OriginalReplicas(*Parse(Deployment("", ""))) == 1);  // unset: Kubernetes' default
  CHECK(*OriginalReplicas(*Parse(Deployment(R"("old-replica":"5")", R"("replicas":0)"))) == 5);
  CHECK(*OriginalReplicas(*Parse(Deployment(R"("old-replica":"0")"))) == 0);
  auto bad = OriginalReplicas(*Parse(Deployment(R"("old-replica":"two")")));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().kind() == ErrorKind::kInvalid);
  CHECK(bad.error().message().find("demo/web") != std::string::npos);
  CHECK(bad.error().message().find("\"two\"") != std::string::npos);
  CHECK_FALSE(OriginalReplicas(*Parse(Deployment(R"("old-replica":"-1")"))).ok());
  CHECK_FALSE(OriginalReplicas(*Parse(Deployment(R"("old-replica":"")"))).ok());
}

TEST_CASE("scaledown: replicas set with the count kept, then restored without it") {
  auto w = kube::Clone(*Parse(Deployment(kApplied)));
  CHECK(SetReplicas(*w, 0, 2));
  CHECK(kube::At(*w, "/spec/replicas")->GetInt64() == 0);
  CHECK(kube::Annotations(*w)["old-replica"] == "2");
  CHECK(kube::Annotations(*w).count("restic.appscode.com/last-applied-configuration") == 1);
  CHECK_FALSE(SetReplicas(*w, 0, 2));  // nothing to change
  CHECK(SetReplicas(*w, 1, 2));
  CHECK(SetReplicas(*w, 2, -1));
  CHECK(kube::At(*w, "/spec/replicas")->GetInt64() == 2);
  CHECK(kube::Annotations(*w).count("old-replica") == 0);
  CHECK(kube::Annotations(*w).count("restic.appscode.com/last-applied-configuration") == 1);
  auto bare = kube::Clone(*Parse(R"({"metadata":{"name":"x"},"spec":{}})"));
  CHECK(SetReplicas(*bare, 0, 3));
  CHECK(kube::Annotations(*bare)["old-replica"] == "3");
}

TEST_CASE("scaledown: a ready pod runs, has Ready True and is not going") {
  CHECK(PodReady(*Parse(Pod("Running", "True"))));
  CHECK_FALSE(PodReady(*Parse(Pod("Running", "False"))));
  CHECK_FALSE(PodReady(*Parse(Pod("Pending", "False"))));  // its init container still backs up
  CHECK_FALSE(PodReady(*Parse(Pod("Running", "True", R"(,"deletionTimestamp":"2026-01-01T00:00:00Z")"))));
  CHECK_FALSE(PodReady(*Parse(R"({"metadata":{"name":"p"}})")));
}

TEST_CASE("scaledown: pods belong to the workload that controls them") {
  auto pod = Parse(R"({"metadata":{"name":"p","ownerReferences":[
    {"kind":"ReplicaSet","name":"web-1","uid":"rs-1","controller":true},
    {"kind":"Other","name":"o","uid":"o-1"}]}})");
  CHECK(ControlledByAny(*pod, {"x", "rs-1"}));
  CHECK_FALSE(ControlledByAny(*pod, {"o-1"}));  // an owner, not the controller
  CHECK_FALSE(ControlledByAny(*Parse(R"({"metadata":{"name":"p"}})"), {"rs-1"}));
}

TEST_CASE("scaledown: a Deployment's ReplicaSet is left to the Deployment") {
  CHECK(ControlledByDeployment(*Parse(R"({"metadata":{"name":"web-1","ownerReferences":[
    {"kind":"Deployment","name":"web","uid":"d-1","controller":true}]}})")));
  CHECK_FALSE(ControlledByDeployment(*Parse(R"({"metadata":{"name":"web-1","ownerReferences":[
    {"kind":"Deployment","name":"web","uid":"d-1"}]}})")));
  CHECK_FALSE(ControlledByDeployment(*Parse(R"({"metadata":{"name":"rs"}})")));
}

TEST_CASE("scaledown: why an init container holds a pod back") {
  auto pod = [](const std::string& status) {
    return Parse(R"({"metadata":{"name":"p"},"status":{"initContainerStatuses":[)" + status + "]}}");
  };
  CHECK(InitContainerTrouble(*pod(R"({"name":"stash","restartCount":3,"state":{"waiting":{"reason":"CrashLoopBackOff"}},
    "lastState":{"terminated":{"exitCode":1}}})")) == "init container stash exited 1, restarted 3 time(s)");
  CHECK(InitContainerTrouble(*pod(R"({"name":"stash","restartCount":0,"state":{"terminated":{"exitCode":2}}})")) ==
        "init container stash exited 2, restarted 0 time(s)");
  CHECK(InitContainerTrouble(*pod(R"({"name":"stash","restartCount":1,"state":{"terminated":{"exitCode":0}},
    "lastState":{"terminated":{"exitCode":1}}})")).empty());  // it got there in the end
  CHECK(InitContainerTrouble(*pod(R"({"name":"stash","state":{"running":{}}})")).empty());
  CHECK(InitContainerTrouble(*Parse(R"({"metadata":{"name":"p"}})")).empty());
}
