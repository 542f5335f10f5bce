// The operator's pure parts: label selectors and the Restic sidecar as a
// function of (workload, Restic).
#include <catch2/catch.hpp>
#include <rapidjson/pointer.h>

#include "kube/object.h"
#include "operator/label_selector.h"
#include "operator/sidecar.h"

using namespace stash;
using namespace stash::op;

namespace {

kube::ObjectPtr Parse(const std::string& json) {
  auto o = kube::ParseObject(json, "test");
  REQUIRE(o.ok());
  return *o;
}

const char* kDeployment = R"({"apiVersion":"apps/v1","kind":"Deployment",
  "metadata":{"name":"web","namespace":"demo","labels":{"app":"web"}},
  "spec":{"replicas":2,"template":{"metadata":{"labels":{"app":"web"}},"spec":{
    "containers":[{"name":"app","image":"busybox","volumeMounts":[{"name":"data","mountPath":"/data"}]}],
    "volumes":[{"name":"data","hostPath":{"path":"/srv/web"}}]}}}})";

const char* kRestic = R"({"apiVersion":"stash.appscode.com/v1alpha1","kind":"Restic",
  "metadata":{"name":"web-backup","namespace":"demo","annotations":{"restic.appscode.com/tag":"9.9"}},
  "spec":{"selector":{"matchLabels":{"app":"web"}},"schedule":"@every 1m",
    "fileGroups":[{"path":"/data","retentionPolicyName":"keep"}],
    "backend":{"storageSecretName":"s","local":{"mountPath":"/safe/data","subPath":"x","hostPath":{"path":"/backups"}}},
    "volumeMounts":[{"name":"data","mountPath":"/data"}],
    "retentionPolicies":[{"name":"keep","keepLast":3}]}})";

const kube::Json* Container(const kube::Json& w, const char* list, const std::string& name) {
  const kube::Json* cs = kube::At(w, list);
  if (!cs || !cs->IsArray()) return nullptr;
  for (const auto& c : cs->GetArray()) {
    if (kube::StringOf(c, "name") == name) return &c;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("operator: label selectors as Kubernetes defines them") {
  std::map<std::string, std::string> labels{{"app", "web"}, {"tier", "front"}};
  auto match = [&](const char* json) {
    auto sel = Parse(std::string(R"({"s":)") + json + "}");
    return SelectorMatches(kube::At(*sel, "/s"), labels);
  };
  CHECK(*match(R"({"matchLabels":{"app":"web"}})"));
  CHECK_FALSE(*match(R"({"matchLabels":{"app":"db"}})"));
  CHECK(*match("{}"));         // empty: everything
  CHECK_FALSE(*match("null"));  // absent: nothing
  CHECK(*match(R"({"matchExpressions":[{"key":"tier","operator":"In","values":["front","back"]}]})"));
  CHECK_FALSE(*match(R"({"matchExpressions":[{"key":"tier","operator":"NotIn","values":["front"]}]})"));
  CHECK(*match(R"({"matchExpressions":[{"key":"x","operator":"DoesNotExist"}]})"));
  CHECK_FALSE(*match(R"({"matchExpressions":[{"key":"x","operator":"Exists"}]})"));
  CHECK_FALSE(match(R"({"matchExpressions":[{"key":"x","operator":"Near"}]})").ok());
  CHECK_FALSE(match(R"({"matchExpressions":[{"key":"x","operator":"In","values":[]}]})").ok());
}

TEST_CASE("operator: the sidecar a Restic adds, and takes out again") {
  auto deployment = kube::Clone(*Parse(kDeployment));
  auto restic = Parse(kRestic);
  std::string original = kube::ToJson(*deployment);
  SidecarOptions options;
  options.image = "registry.example/stash:0.1.0";
  options.pushgateway_url = "http://pushgateway:9091";
  auto changed = InjectSidecar(*deployment, "Deployment", *restic, options);
  REQUIRE(changed.ok());
  CHECK(*changed);
  const kube::Json& w = *deployment;
  const kube::Json* stash = Container(w, "/spec/template/spec/containers", "stash");
  REQUIRE(stash);
  CHECK(kube::StringOf(*stash, "image") == "registry.example/stash:9.9");  // the Restic's tag annotation
  std::string args = kube::ToJson(*kube::At(*stash, "/args"));
  CHECK(args == R"(["backup","--restic-name=web-backup","--workload-kind=Deployment","--workload-name=web",)"
                 R"("--run-via-cron=true","--pushgateway-url=http://pushgateway:9091"])");
  CHECK(kube::StringAt(*stash, "/env/0/valueFrom/fieldRef/fieldPath") == "spec.nodeName");
  CHECK(kube::StringAt(*stash, "/env/1/name") == "POD_NAME");
  std::string mounts = kube::ToJson(*kube::At(*stash, "/volumeMounts"));
  CHECK(mounts == R"([{"name":"stash-scratchdir","mountPath":"/tmp"},{"name":"stash-podinfo","mountPath":"/etc/stash"},)"
                  R"({"name":"data","mountPath":"/data","readOnly":true},)"
                  R"({"name":"stash-local","mountPath":"/safe/data","subPath":"x"}])");
  std::string volumes = kube::ToJson(*kube::At(w, "/spec/template/spec/volumes"));
  CHECK(volumes.find(R"({"name":"stash-local","hostPath":{"path":"/backups"}})") != std::string::npos);
  CHECK(volumes.find("stash-scratchdir") != std::string::npos);
  CHECK(kube::Annotations(w).count(kLastAppliedAnnotation) == 1);
  CHECK(HasSidecar(w));

  // Idempotent: the second run changes nothing.
  auto again = InjectSidecar(*deployment, "Deployment", *restic, options);
  REQUIRE(again.ok());
  CHECK_FALSE(*again);

  // A changed Restic changes the sidecar.
  auto edited = kube::Clone(*restic);
  rapidjson::Pointer("/spec/schedule").Set(*edited, "@every 5m");
  CHECK(*InjectSidecar(*deployment, "Deployment", *edited, options));

  // Removal restores the workload exactly.
  CHECK(RemoveSidecar(*deployment));
  CHECK(kube::ToJson(*deployment) == original);
  CHECK_FALSE(RemoveSidecar(*deployment));
}

TEST_CASE("operator: offline Restics add an init container; a workload without a pod template is refused") {
  auto deployment = kube::Clone(*Parse(kDeployment));
  auto restic = kube::Clone(*Parse(kRestic));
  rapidjson::Pointer("/spec/type").Set(*restic, "offline");
  REQUIRE(*InjectSidecar(*deployment, "Deployment", *restic, {}));
  const kube::Json* init = Container(*deployment, "/spec/template/spec/initContainers", "stash");
  REQUIRE(init);
  CHECK(kube::ToJson(*kube::At(*init, "/args")).find("run-via-cron") == std::string::npos);
  CHECK_FALSE(Container(*deployment, "/spec/template/spec/containers", "stash"));
  auto bare = kube::Clone(*Parse(R"({"metadata":{"name":"x"},"spec":{}})"));
  CHECK_FALSE(InjectSidecar(*bare, "Deployment", *restic, {}).ok());
}
