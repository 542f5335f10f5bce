// The Kubernetes client against a real kube-apiserver: run by
// test/interop/kube_client.sh, which starts the control plane and sets
// KUBECONFIG (cluster admin) and applies the Repository CRD.
#include <catch2/catch.hpp>
#include <stdlib.h>

#include <atomic>
#include <thread>

#include "kube/client.h"
#include "kube/events.h"
#include "kube/informer.h"
#include "kube/leader_election.h"
#include "base/json_out.h"

using namespace stash;
using namespace stash::kube;
using namespace std::chrono_literals;

namespace {

const Resource kRepositories{"stash.appscode.com", "v1alpha1", "repositories", "Repository", true};
const std::string kNs = "kube-check";

Client& TheClient() {
  static std::unique_ptr<Client> client = [] {
    auto access = ResolveAccess("");
    REQUIRE(access.ok());
    auto c = Client::Create(*access);
    REQUIRE(c.ok());
    auto ns = (*c)->Create(resources::kNamespaces, "",
                           R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":")" + kNs + "\"}}");
    REQUIRE((ns.ok() || Reason(ns.error()) == "AlreadyExists"));
    return std::move(*c);
  }();
  return *client;
}

std::string ConfigMap(const std::string& name, const std::string& value) {
  JsonOut j;
  j.Open().Field("apiVersion", "v1").Field("kind", "ConfigMap");
  j.Key("metadata").Open().Field("name", name).Field("namespace", kNs);
  j.Key("labels").Open().Field("suite", "kube-check").Close().Close();
  j.Key("data").Open().Field("value", value).Close().Close();
  return j.Take();
}

template <class F>
bool Eventually(F condition, std::chrono::milliseconds limit = 20000ms) {
  for (auto end = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < end;) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

}  // namespace

TEST_CASE("cluster: create, get, list in pages, update with conflicts, patches, apply, delete") {
  Client& c = TheClient();
  for (int i = 0; i < 7; ++i) {
    REQUIRE(c.Create(resources::kConfigMaps, kNs, ConfigMap("page-" + std::to_string(i), "v")).ok());
  }
  ListOptions paged;
  paged.limit = 3;
  paged.label_selector = "suite=kube-check";
  auto list = c.List(resources::kConfigMaps, kNs, paged);
  REQUIRE(list.ok());
  CHECK(list->items.size() == 7);
  CHECK_FALSE(list->resource_version.empty());
  CHECK(StringOf(*list->items[0], "kind") == "ConfigMap");

  auto again = c.Create(resources::kConfigMaps, kNs, ConfigMap("page-0", "v"));
  REQUIRE_FALSE(again.ok());
  CHECK(Reason(again.error()) == "AlreadyExists");
  CHECK(again.error().kind() == ErrorKind::kConflict);

  auto got = c.Get(resources::kConfigMaps, kNs, "page-0");
  REQUIRE(got.ok());
  std::string stale = ToJson(**got);
  auto bumped = c.Modify(resources::kConfigMaps, kNs, "page-0", [](rapidjson::Document& d) {
    d["data"]["value"].SetString("changed", d.GetAllocator());
    return true;
  });
  REQUIRE(bumped.ok());
  CHECK(StringAt(**bumped, "/data/value") == "changed");
  auto conflict = c.Update(resources::kConfigMaps, kNs, stale);  // an old resourceVersion
  REQUIRE_FALSE(conflict.ok());
  CHECK(Reason(conflict.error()) == "Conflict");

  auto merged = c.Patch(resources::kConfigMaps, kNs, "page-1", PatchType::kMerge, R"({"data":{"merge":"1"}})");
  REQUIRE(merged.ok());
  CHECK(StringAt(**merged, "/data/merge") == "1");
  auto json = c.Patch(resources::kConfigMaps, kNs, "page-1", PatchType::kJson,
                      R"([{"op":"add","path":"/data/json","value":"2"}])");
  REQUIRE(json.ok());
  CHECK(StringAt(**json, "/data/json") == "2");
  auto strategic = c.Patch(resources::kConfigMaps, kNs, "page-1", PatchType::kStrategicMerge,
                           R"({"metadata":{"labels":{"s":"3"}}})");
  REQUIRE(strategic.ok());
  CHECK(Labels(**strategic).at("s") == "3");
  auto applied = c.Apply(resources::kConfigMaps, kNs, "applied", ConfigMap("applied", "ssa"), "kube-check");
  REQUIRE(applied.ok());
  CHECK(StringAt(**applied, "/metadata/managedFields/0/manager") == "kube-check");
  auto bad = c.Patch(resources::kConfigMaps, kNs, "page-1", PatchType::kJson, R"([{"op":"nonsense"}])");
  REQUIRE_FALSE(bad.ok());

  CHECK(c.Delete(resources::kConfigMaps, kNs, "page-2", "not-its-uid").error().kind() == ErrorKind::kConflict);
  CHECK(c.Delete(resources::kConfigMaps, kNs, "page-2").ok());
  CHECK(c.Delete(resources::kConfigMaps, kNs, "page-2").ok());  // already gone
  CHECK(c.Delete(resources::kConfigMaps, kNs, "page-2", "", false).error().kind() == ErrorKind::kNotFound);
  auto missing = c.Get(resources::kConfigMaps, "no-such-namespace", "x");
  CHECK(missing.error().kind() == ErrorKind::kNotFound);
}

TEST_CASE("cluster: the status subresource of a custom resource") {
  Client& c = TheClient();
  std::string repo = R"({"apiVersion":"stash.appscode.com/v1alpha1","kind":"Repository",)"
                     R"("metadata":{"name":"r1","namespace":")" + kNs + R"("},)"
                     R"("spec":{"backend":{"storageSecretName":"s","local":{"mountPath":"/m","hostPath":{"path":"/tmp"}}}}})";
  auto created = c.Create(kRepositories, kNs, repo);
  REQUIRE(created.ok());
  auto status = c.Modify(kRepositories, kNs, "r1", [](rapidjson::Document& d) {
    rapidjson::Value s(rapidjson::kObjectType);
    s.AddMember("backupCount", 4, d.GetAllocator());
    d.AddMember("status", s, d.GetAllocator());
    return true;
  }, /*status=*/true);
  REQUIRE(status.ok());
  auto read = c.Get(kRepositories, kNs, "r1");
  REQUIRE(read.ok());
  const Json* count = At(**read, "/status/backupCount");
  REQUIRE(count);
  CHECK(count->GetInt() == 4);
}

TEST_CASE("cluster: an informer follows creates, updates and deletes across watch reconnects") {
  Client& c = TheClient();
  ListOptions selector;
  selector.label_selector = "suite=informer";
  Informer informer(&c, resources::kConfigMaps, kNs, selector);
  informer.set_watch_timeout(2s);  // the server ends each watch quickly: reconnects are exercised
  std::mutex mu;
  std::vector<std::string> seen;
  InformerHandlers h;
  h.on_add = [&](const ObjectPtr& o) { std::lock_guard<std::mutex> l(mu); seen.push_back("add " + Name(*o)); };
  h.on_update = [&](const ObjectPtr&, const ObjectPtr& o) {
    std::lock_guard<std::mutex> l(mu);
    seen.push_back("update " + Name(*o) + "=" + StringAt(*o, "/data/value"));
  };
  h.on_delete = [&](const ObjectPtr& o) { std::lock_guard<std::mutex> l(mu); seen.push_back("delete " + Name(*o)); };
  informer.AddHandlers(h);
  informer.Start();
  REQUIRE(informer.WaitForSync(20s));
  auto with_label = [](const std::string& name, const std::string& value) {
    std::string j = ConfigMap(name, value);
    size_t at = j.find("kube-check\"}");
    return j.replace(at, std::string("kube-check").size(), "informer");
  };
  REQUIRE(c.Create(resources::kConfigMaps, kNs, with_label("watched", "1")).ok());
  std::this_thread::sleep_for(3s);  // let at least one watch end and resume
  REQUIRE(c.Patch(resources::kConfigMaps, kNs, "watched", PatchType::kMerge, R"({"data":{"value":"2"}})").ok());
  REQUIRE(c.Delete(resources::kConfigMaps, kNs, "watched").ok());
  bool done = Eventually([&] {
    std::lock_guard<std::mutex> l(mu);
    return !seen.empty() && seen.back() == "delete watched";
  });
  informer.Stop();
  std::vector<std::string> expected = {"add watched", "update watched=2", "delete watched"};
  CHECK(done);
  CHECK(seen == expected);
  CHECK(informer.problem().empty());
}

TEST_CASE("cluster: events are recorded, and repeats counted") {
  Client& c = TheClient();
  auto cm = c.Get(resources::kConfigMaps, kNs, "page-0");
  REQUIRE(cm.ok());
  EventRecorder recorder(&c, "kube-check", "host-1");
  recorder.Warning(ObjectReference::Of(**cm), "Checked", "twice");
  recorder.Warning(ObjectReference::Of(**cm), "Checked", "twice");
  ListOptions o;
  o.field_selector = "involvedObject.name=page-0,reason=Checked";
  auto events = c.List(resources::kEvents, kNs, o);
  REQUIRE(events.ok());
  REQUIRE(events->items.size() == 1);
  const Json* count = At(*events->items[0], "/count");
  REQUIRE(count);
  CHECK(count->GetInt() == 2);
  CHECK(StringAt(*events->items[0], "/involvedObject/kind") == "ConfigMap");
  CHECK(StringAt(*events->items[0], "/type") == "Warning");
}

TEST_CASE("cluster: one leader among candidates; a released lease is taken over at once") {
  Client& c = TheClient();
  LeaderElectionConfig config;
  config.ns = kNs;
  config.name = "kube-check-leader";
  config.lease_duration = 5s;
  config.identity = "a";
  LeaderElector a(&c, config);
  config.identity = "b";
  LeaderElector b(&c, config);
  CHECK(a.TryAcquireOrRenew());
  CHECK_FALSE(b.TryAcquireOrRenew());
  CHECK(a.TryAcquireOrRenew());  // renewing
  CHECK(b.observed_holder() == "a");
  a.Release();
  CHECK_FALSE(a.leading());
  CHECK(b.TryAcquireOrRenew());
  CHECK_FALSE(a.TryAcquireOrRenew());

  SECTION("Run leads until stopped, then releases") {
    std::atomic<bool> stop{false}, led{false};
    std::thread runner([&] {
      a.Run([&](const std::atomic<bool>& lost) {
        led = true;
        while (!lost) std::this_thread::sleep_for(50ms);
      }, stop);
    });
    b.Release();
    CHECK(Eventually([&] { return led.load(); }, 15000ms));
    stop = true;
    runner.join();
    CHECK(b.TryAcquireOrRenew());  // released on the way out
  }
}

TEST_CASE("cluster: an unreachable server is one clear error") {
  ClusterAccess nowhere;
  nowhere.server = "https://127.0.0.1:1";
  ClientOptions o;
  o.timeout = 2s;
  o.max_attempts = 1;
  auto c = Client::Create(nowhere, o);
  REQUIRE(c.ok());
  auto got = (*c)->Get(resources::kNamespaces, "", "default");
  REQUIRE_FALSE(got.ok());
  CHECK(got.error().message().find("127.0.0.1:1") != std::string::npos);
}
