// The admission webhook's decision as a pure function: an AdmissionReview
// in, the answer (and its JSONPatch, applied here) out.
#include <catch2/catch.hpp>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include "crypto/encoding.h"
#include "kube/object.h"
#include "operator/admission.h"
#include "operator/sidecar.h"
#include "operator/webhook_registration.h"

using namespace stash;
using namespace stash::op;

namespace {

const char* kWorkload = R"({"apiVersion":"apps/v1","kind":"Deployment",
  "metadata":{"name":"web","labels":{"app":"web"}},
  "spec":{"replicas":1,"template":{"metadata":{"labels":{"app":"web"}},"spec":{
    "containers":[{"name":"app","image":"busybox","volumeMounts":[{"name":"data","mountPath":"/data"}]}],
    "volumes":[{"name":"data","hostPath":{"path":"/srv/web"}}]}}}})";

std::string Restic(const std::string& name, const std::string& app) {
  return R"({"apiVersion":"stash.appscode.com/v1alpha1","kind":"Restic",
    "metadata":{"name":")" + name + R"(","namespace":"demo"},
    "spec":{"selector":{"matchLabels":{"app":")" + app + R"("}},"schedule":"@every 1m",
      "fileGroups":[{"path":"/data","retentionPolicyName":"keep"}],
      "backend":{"storageSecretName":"s","local":{"mountPath":"/safe","hostPath":{"path":"/backups"}}},
      "volumeMounts":[{"name":"data","mountPath":"/data"}],
      "retentionPolicies":[{"name":"keep","keepLast":3}]}})";
}

std::string Review(const std::string& kind, const std::string& object, const std::string& op = "CREATE") {
  return R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-1",
    "kind":{"group":"apps","version":"v1","kind":")" + kind + R"("},"namespace":"demo","operation":")" + op +
         R"(","object":)" + object + "}}";
}

ResticLister Lister(std::vector<std::string> restics) {
  return [restics](const std::string& ns) {
    std::vector<kube::ObjectPtr> out;
    if (ns != "demo") return out;
    for (const auto& r : restics) out.push_back(*kube::ParseObject(r, "restic"));
    return out;
  };
}

rapidjson::Document ParseJson(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.c_str());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

// Applies the "add"/"remove" operations the webhook emits.
rapidjson::Document ApplyPatch(const std::string& object, const std::string& patch) {
  auto doc = ParseJson(object);
  auto ops = ParseJson(patch);
  for (const auto& op : ops.GetArray()) {
    std::string kind = op["op"].GetString();
    rapidjson::Pointer path(op["path"].GetString());
    if (kind == "add") path.Set(doc, rapidjson::Value(op["value"], doc.GetAllocator()));
    else path.Erase(doc);
  }
  return doc;
}

std::string DecodedPatch(const rapidjson::Document& answer) {
  auto bytes = Base64Decode(answer["response"]["patch"].GetString());
  REQUIRE(bytes);
  return std::string(bytes->begin(), bytes->end());
}

}  // namespace

TEST_CASE("webhook: a workload one Restic selects gets the sidecar through its patch") {
  auto outcome = ReviewWorkload(Review("Deployment", kWorkload), Lister({Restic("web-backup", "web")}), {});
  REQUIRE(outcome.ok());
  CHECK(outcome->patched);
  CHECK(outcome->kind == "Deployment");
  auto answer = ParseJson(outcome->review_json);
  CHECK(std::string(answer["response"]["uid"].GetString()) == "u-1");
  CHECK(answer["response"]["allowed"].GetBool());
  CHECK(std::string(answer["response"]["patchType"].GetString()) == "JSONPatch");
  auto patched = ApplyPatch(kWorkload, DecodedPatch(answer));
  CHECK(HasSidecar(patched));
  CHECK(kube::Annotations(patched).count(kLastAppliedAnnotation) == 1);
  // The same review of the patched object changes nothing more.
  auto again = ReviewWorkload(Review("Deployment", kube::ToJson(patched), "UPDATE"),
                              Lister({Restic("web-backup", "web")}), {});
  REQUIRE(again.ok());
  CHECK_FALSE(again->patched);
  CHECK_FALSE(ParseJson(again->review_json)["response"].HasMember("patch"));
}

TEST_CASE("webhook: no Restic, another namespace, or another kind: admitted unchanged") {
  for (const auto& [kind, restics] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"Deployment", {}}, {"Deployment", {Restic("db-backup", "db")}}, {"Job", {Restic("web-backup", "web")}}}) {
    auto outcome = ReviewWorkload(Review(kind, kWorkload), Lister(restics), {});
    REQUIRE(outcome.ok());
    CHECK_FALSE(outcome->patched);
    CHECK(ParseJson(outcome->review_json)["response"]["allowed"].GetBool());
  }
}

TEST_CASE("webhook: two Restics selecting one workload: no sidecar, and a warning naming both") {
  auto outcome = ReviewWorkload(Review("Deployment", kWorkload),
                                Lister({Restic("a", "web"), Restic("b", "web")}), {});
  REQUIRE(outcome.ok());
  CHECK_FALSE(outcome->patched);
  auto answer = ParseJson(outcome->review_json);
  REQUIRE(answer["response"].HasMember("warnings"));
  std::string warning = answer["response"]["warnings"][0].GetString();
  CHECK(warning.find("a, b") != std::string::npos);
}

TEST_CASE("webhook: a sidecar whose Restic is gone is removed on update") {
  auto with = ReviewWorkload(Review("Deployment", kWorkload), Lister({Restic("web-backup", "web")}), {});
  REQUIRE(with.ok());
  auto patched = ApplyPatch(kWorkload, DecodedPatch(ParseJson(with->review_json)));
  auto without = ReviewWorkload(Review("Deployment", kube::ToJson(patched), "UPDATE"), Lister({}), {});
  REQUIRE(without.ok());
  CHECK(without->patched);
  auto cleaned = ApplyPatch(kube::ToJson(patched), DecodedPatch(ParseJson(without->review_json)));
  CHECK_FALSE(HasSidecar(cleaned));
  CHECK(kube::Annotations(cleaned).count(kLastAppliedAnnotation) == 0);
}

TEST_CASE("webhook: a body that is not an AdmissionReview is refused with a reason") {
  CHECK(ReviewWorkload("not json", Lister({}), {}).error().message().find("not a JSON object") != std::string::npos);
  CHECK(ReviewWorkload(R"({"request":{}})", Lister({}), {}).error().message().find("uid") != std::string::npos);
}

TEST_CASE("webhook registration: one webhook per workload kind, at the 0.8.3 paths") {
  WebhookEndpoint url_endpoint{"https://127.0.0.1:9443/", {}};
  auto by_url = ParseJson(MutatingWebhookConfigurationJson(url_endpoint, "CA"));
  REQUIRE(by_url["webhooks"].Size() == WorkloadResources().size());
  const auto& first = by_url["webhooks"][0];
  CHECK(std::string(first["name"].GetString()) == "deployment.admission.stash.appscode.com");
  CHECK(std::string(first["clientConfig"]["url"].GetString()) ==
        "https://127.0.0.1:9443/apis/admission.stash.appscode.com/v1alpha1/deployments");
  CHECK(std::string(first["failurePolicy"].GetString()) == "Ignore");
  const auto& rc = by_url["webhooks"][WorkloadResources().size() - 1];
  CHECK(std::string(rc["rules"][0]["apiGroups"][0].GetString()) == "");
  WebhookEndpoint service_endpoint{"", {"stash", "stash-operator", 443}};
  auto by_service = ParseJson(MutatingWebhookConfigurationJson(service_endpoint, "CA"));
  CHECK(std::string(by_service["webhooks"][0]["clientConfig"]["service"]["path"].GetString()) ==
        "/apis/admission.stash.appscode.com/v1alpha1/deployments");
}

TEST_CASE("validating webhook: a Restic the sidecar could not run is denied with the reason") {
  auto review = [](const std::string& restic) {
    auto outcome = ReviewRestic(R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"r-1",
      "kind":{"group":"stash.appscode.com","version":"v1alpha1","kind":"Restic"},"namespace":"demo",
      "operation":"CREATE","object":)" + restic + "}}");
    REQUIRE(outcome.ok());
    return outcome.value();
  };
  auto good = review(Restic("web-backup", "web"));
  CHECK_FALSE(good.denied);
  CHECK(ParseJson(good.review_json)["response"]["allowed"].GetBool());

  std::string bad_schedule = Restic("web-backup", "web");
  bad_schedule.replace(bad_schedule.find("@every 1m"), 9, "61 * * * *");
  auto denied = review(bad_schedule);
  CHECK(denied.denied);
  auto answer = ParseJson(denied.review_json);
  CHECK_FALSE(answer["response"]["allowed"].GetBool());
  std::string message = answer["response"]["status"]["message"].GetString();
  CHECK(message.find("minute") != std::string::npos);

  std::string no_policy = Restic("web-backup", "web");
  no_policy.replace(no_policy.find("\"retentionPolicyName\":\"keep\""), 28, "\"retentionPolicyName\":\"gone\"");
  auto missing = review(no_policy);
  CHECK(missing.denied);
  CHECK(std::string(ParseJson(missing.review_json)["response"]["status"]["message"].GetString()).find("gone") !=
        std::string::npos);

  std::string bad_type = Restic("web-backup", "web");
  bad_type.insert(bad_type.find("\"selector\""), "\"type\":\"sometimes\",");
  CHECK(review(bad_type).denied);
}
