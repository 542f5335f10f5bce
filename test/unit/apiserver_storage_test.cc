// The snapshot resource end to end without the network: SnapshotStorage
// over real repositories (refresh, watch events, delete under a lock,
// broken and slow repositories, docs/decisions.md section 5), the REST layer's answers and
// the router's authentication, authorization and errors.
#include <catch2/catch.hpp>
#include <rapidjson/document.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "apiserver/machinery/watch_session.h"
#include "apiserver/router.h"
#include "apiserver/snapshots/snapshot_object.h"
#include "apiserver/snapshots/snapshot_storage.h"
#include "base/version.h"
#include "storage/backends/local_backend.h"
#include "storage/lock.h"
#include "test/unit/test_util.h"

using namespace stash;
using namespace stash::apiserver;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using stash::testing::TempDir;

std::unique_ptr<Repository> InitRepo(const std::string& path) {
  InitOptions o;
  o.chunker_polynomial = 0x3DA3358B4DC173;
  o.kdf = {1024, 8, 1};
  auto repo = Repository::Init(std::make_unique<LocalBackend>(path), "pw", o);
  REQUIRE(repo.ok());
  return std::move(*repo);
}

Id AddSnapshot(Repository& repo, const std::string& host, int64_t seconds) {
  Snapshot s;
  s.time.seconds = seconds;
  s.tree = *Id::FromHex(std::string(64, 'a'));
  s.paths = {"/data"};
  s.hostname = host;
  s.username = "root";
  auto id = repo.SaveSnapshot(s);
  REQUIRE(id.ok());
  return *id;
}

class FakeSource : public RepositorySource {
 public:
  std::vector<RepositorySpec> repos;
  std::vector<std::string> terminating;
  std::vector<RepositorySpec> Repositories() override { return repos; }
  bool NamespaceTerminating(const std::string& ns) override {
    return std::find(terminating.begin(), terminating.end(), ns) != terminating.end();
  }
  std::function<void()> changed = [] {};  // what the storage runs when Repositories() changes
  void OnChange(std::function<void()> callback) override { changed = std::move(callback); }
  std::optional<std::string> NamespacePhase(const std::string&) const override { return "Active"; }
};

RepositorySpec Spec(const std::string& ns, const std::string& name, const std::string& location) {
  RepositorySpec r;
  r.ns = ns;
  r.name = name;
  r.location = location;
  r.password = "pw";
  r.labels = {{"app", name}};
  return r;
}

std::set<std::string> Names(const std::vector<ObjectPtr>& objects) {
  std::set<std::string> out;
  for (const auto& o : objects) out.insert(o->meta.name);
  return out;
}

// A fixture: two repositories in namespace demo, one in other.
struct World {
  TempDir dir;
  std::unique_ptr<Repository> a, b, c;
  FakeSource source;
  ThreadPool pool{4};
  Metrics metrics;
  std::unique_ptr<SnapshotStorage> storage;

  World(SnapshotStorageOptions options = {}) {
    a = InitRepo(dir.path + "/a");
    b = InitRepo(dir.path + "/b");
    c = InitRepo(dir.path + "/c");
    source.repos = {Spec("demo", "repo-a", dir.path + "/a"), Spec("demo", "repo-b", dir.path + "/b"),
                    Spec("other", "repo-c", dir.path + "/c")};
    SnapshotStorage::DeclareMetrics(metrics);
    if (options.refresh_interval == 2000ms) options.refresh_interval = 100ms;
    storage = std::make_unique<SnapshotStorage>(source, pool, &metrics, options);
  }
  ~World() {
    storage->Stop();
    pool.Shutdown();
  }
  ListResult List(const std::string& ns, const std::string& selector = "") {
    return storage->List(ns, *LabelSelector::Parse(selector));
  }
};

}  // namespace

TEST_CASE("storage lists every repository's snapshots with per-snapshot labels") {
  World w;
  Id a1 = AddSnapshot(*w.a, "web-1", 1000);
  AddSnapshot(*w.a, "web-2", 2000);
  AddSnapshot(*w.b, "db", 3000);
  AddSnapshot(*w.c, "x", 4000);
  w.storage->Start();
  auto demo = w.List("demo");
  CHECK(demo.warnings.empty());
  CHECK(demo.objects.size() == 3);
  CHECK(w.List("").objects.size() == 4);
  CHECK(w.List("other").objects.size() == 1);
  CHECK(w.List("demo", "repository=repo-a").objects.size() == 2);
  CHECK(w.List("demo", "app=repo-b").objects.size() == 1);
  std::vector<std::string> warnings;
  auto got = w.storage->Get("demo", "repo-a-" + a1.Short(), warnings);
  REQUIRE(got.ok());
  CHECK((*got)->meta.uid == a1.Hex());
  CHECK((*got)->meta.labels.at("hostname") == "web-1");
  CHECK(w.storage->Get("demo", "repo-a-00000000", warnings).error().kind() == ErrorKind::kNotFound);
  CHECK(w.storage->Get("demo", "nope", warnings).error().kind() == ErrorKind::kNotFound);
  CHECK(w.storage->Get("other", "repo-a-" + a1.Short(), warnings).error().kind() == ErrorKind::kNotFound);
}

TEST_CASE("refresh picks up snapshots written and removed by others, as watch events") {
  World w;
  AddSnapshot(*w.a, "web-1", 1000);
  w.storage->Start();
  auto first = w.List("demo");
  REQUIRE(first.objects.size() == 1);
  std::mutex mu;
  std::vector<std::string> events;
  auto sub = w.storage->watch_hub().Subscribe(first.resource_version, [&](const WatchEvent& e) {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(std::string(EventTypeName(e.type)) + " " + e.object->meta.name);
  });
  REQUIRE(sub.ok());
  Id added = AddSnapshot(*w.b, "new", 5000);
  Id gone = *Id::FromHex((*first.objects[0]).meta.uid);
  REQUIRE(w.a->backend().Remove(FileType::kSnapshot, gone.Hex()).ok());
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(20ms);
    std::lock_guard<std::mutex> lock(mu);
    if (events.size() >= 2) break;
  }
  {
    // The sink runs under the storage's locks: never hold `mu` while listing.
    std::lock_guard<std::mutex> lock(mu);
    CHECK(std::count(events.begin(), events.end(), "ADDED repo-b-" + added.Short()) == 1);
    CHECK(std::count(events.begin(), events.end(), "DELETED repo-a-" + gone.Short()) == 1);
  }
  CHECK(Names(w.List("demo").objects) == std::set<std::string>{"repo-b-" + added.Short()});
}

namespace {

class CapturingWriter : public StreamWriter {
 public:
  bool Write(std::string chunk) override {
    std::lock_guard<std::mutex> lock(mu);
    lines.push_back(std::move(chunk));
    return true;
  }
  void End() override {}
  bool closed() const override { return false; }
  std::vector<std::string> Lines() {
    std::lock_guard<std::mutex> lock(mu);
    return lines;
  }

 private:
  std::mutex mu;
  std::vector<std::string> lines;
};

// The object's bytes as rendered from its fields, nothing sealed.
std::string FreshJson(const ObjectPtr& o) {
  auto bare = std::make_shared<Object>(*o);
  bare->rendered = {};
  JsonOut out;
  WriteObject(out, SnapshotResourceInfo().group_version(), SnapshotResourceInfo().kind, *bare);
  return out.Take();
}

}  // namespace

TEST_CASE("a Repository's new labels re-seal its snapshots: MODIFIED events, no reload") {
  World w;
  Id a1 = AddSnapshot(*w.a, "web-1", 1000);
  Id a2 = AddSnapshot(*w.a, "web-2", 2000);
  AddSnapshot(*w.b, "db", 3000);
  w.storage->Start();
  REQUIRE(w.List("").objects.size() == 3);  // every repository loaded
  auto first = w.List("demo", "repository=repo-a");
  REQUIRE(first.objects.size() == 2);
  for (const auto& o : first.objects) CHECK(o->rendered.object == FreshJson(o));
  std::mutex mu;
  std::vector<WatchEvent> events;
  auto sub = w.storage->watch_hub().Subscribe(first.resource_version, [&](const WatchEvent& e) {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(e);
  });
  REQUIRE(sub.ok());
  // A watcher of tier=gold in demo, as kubectl get --watch -l tier=gold runs it.
  auto writer = std::make_shared<CapturingWriter>();
  ListOptions gold;
  gold.labels = *LabelSelector::Parse("tier=gold");
  WatchSession session(*w.storage, "demo", gold, RenderOptions{}, writer,
                       WatchSession::Clock::now() + 60s);
  session.Start(w.storage->watch_hub(), first.resource_version);

  w.source.repos[0].labels = {{"app", "repo-a"}, {"tier", "gold"}};
  w.source.changed();
  auto now = w.List("demo", "tier=gold");
  REQUIRE(now.objects.size() == 2);
  CHECK(now.resource_version > first.resource_version);
  for (const auto& o : now.objects) {
    CHECK(o->meta.labels.at("tier") == "gold");
    CHECK(o->meta.labels.at("repository") == "repo-a");
    CHECK(o->rendered.object.find("\"tier\":\"gold\"") != std::string::npos);
    CHECK(o->rendered.partial.find("\"tier\":\"gold\"") != std::string::npos);
    CHECK(o->rendered.object == FreshJson(o));  // the sealed bytes are the new object's
    CHECK(o->meta.resource_version > first.resource_version);
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    REQUIRE(events.size() == 2);  // no DELETED and ADDED of a reload
    std::set<std::string> uids;
    for (const auto& e : events) {
      CHECK(e.type == WatchEvent::kModified);
      REQUIRE(e.previous);
      CHECK(e.previous->meta.labels.count("tier") == 0);
      CHECK(e.previous->meta.uid == e.object->meta.uid);
      uids.insert(e.object->meta.uid);
    }
    CHECK(uids == std::set<std::string>{a1.Hex(), a2.Hex()});
  }
  CHECK(w.List("demo", "repository=repo-b").objects.size() == 1);  // the other repository untouched
  // The watcher of tier=gold sees the snapshots come in as ADDED ...
  auto lines = writer->Lines();
  REQUIRE(lines.size() == 2);
  for (const auto& l : lines) CHECK(l.rfind("{\"type\":\"ADDED\",", 0) == 0);
  // ... and go as DELETED (of the object it saw, at the new version) when the label goes.
  w.source.repos[0].labels = {{"app", "repo-a"}};
  w.source.changed();
  lines = writer->Lines();
  REQUIRE(lines.size() == 4);
  CHECK(lines[2].rfind("{\"type\":\"DELETED\",", 0) == 0);
  CHECK(lines[2].find("\"tier\":\"gold\"") != std::string::npos);
  CHECK(w.List("demo", "tier=gold").objects.empty());
  // The same labels again change nothing.
  w.source.changed();
  {
    std::lock_guard<std::mutex> lock(mu);
    std::string seen;
    for (const auto& e : events) seen += std::string(EventTypeName(e.type)) + " " + e.object->meta.name + "; ";
    INFO(seen);
    CHECK(events.size() == 4);
  }
  session.Finish();
}

TEST_CASE("delete removes the snapshot file under an exclusive lock") {
  World w;
  Id id = AddSnapshot(*w.a, "web-1", 1000);
  w.storage->Start();
  std::vector<std::string> warnings;
  auto object = w.storage->Get("demo", "repo-a-" + id.Short(), warnings);
  REQUIRE(object.ok());
  uint64_t before = w.storage->watch_hub().version();
  auto deleted = w.storage->Delete(*object, UserInfo{"alice", "", {}, {}});
  REQUIRE(deleted.ok());
  CHECK((*deleted)->meta.resource_version > before);
  CHECK_FALSE(fs::exists(w.dir.path + "/a/snapshots/" + id.Hex()));
  CHECK(fs::is_empty(w.dir.path + "/a/locks"));  // the lock is gone again
  CHECK(w.storage->Get("demo", "repo-a-" + id.Short(), warnings).error().kind() == ErrorKind::kNotFound);
}

TEST_CASE("a held lock makes delete a conflict") {
  World w;
  Id id = AddSnapshot(*w.a, "web-1", 1000);
  w.storage->Start();
  std::vector<std::string> warnings;
  auto object = w.storage->Get("demo", "repo-a-" + id.Short(), warnings);
  REQUIRE(object.ok());
  auto held = RepositoryLock::Acquire(*w.a, LockMode::kShared);
  REQUIRE(held.ok());
  auto deleted = w.storage->Delete(*object, UserInfo{"alice", "", {}, {}});
  REQUIRE_FALSE(deleted.ok());
  CHECK(deleted.error().kind() == ErrorKind::kConflict);
  CHECK(fs::exists(w.dir.path + "/a/snapshots/" + id.Hex()));
}

TEST_CASE("deleting a namespace never deletes backups") {
  World w;
  Id id = AddSnapshot(*w.a, "web-1", 1000);
  w.storage->Start();
  std::vector<std::string> warnings;
  auto object = w.storage->Get("demo", "repo-a-" + id.Short(), warnings);
  REQUIRE(object.ok());
  auto by_controller = w.storage->Delete(*object, UserInfo{kNamespaceController, "", {}, {}});
  REQUIRE(by_controller.ok());
  CHECK(fs::exists(w.dir.path + "/a/snapshots/" + id.Hex()));
  w.source.terminating = {"demo"};
  CHECK(w.List("demo").objects.empty());
  CHECK(w.List("").objects.empty());  // repo-c in "other" has no snapshots
  REQUIRE(w.storage->Delete(*object, UserInfo{"alice", "", {}, {}}).ok());
  CHECK(fs::exists(w.dir.path + "/a/snapshots/" + id.Hex()));
}

TEST_CASE("DeleteAll checks every snapshot first, then removes per repository") {
  World w;
  Id a1 = AddSnapshot(*w.a, "web-1", 1000), a2 = AddSnapshot(*w.a, "web-2", 2000);
  Id b1 = AddSnapshot(*w.b, "web-1", 3000);
  w.storage->Start();
  auto listed = w.List("demo").objects;
  REQUIRE(listed.size() == 3);
  std::string failed;
  // The namespace controller touches nothing, and gets the objects back.
  auto by_controller = w.storage->DeleteAll(listed, UserInfo{kNamespaceController, "", {}, {}}, failed);
  REQUIRE(by_controller.ok());
  CHECK(by_controller->size() == 3);
  CHECK(fs::exists(w.dir.path + "/a/snapshots/" + a1.Hex()));
  // One object that is gone already: nothing at all is removed.
  REQUIRE(fs::remove(w.dir.path + "/b/snapshots/" + b1.Hex()));
  std::vector<std::string> warnings;
  REQUIRE(w.storage->Get("demo", "repo-a-" + a1.Short(), warnings).ok());
  auto stale = listed;
  auto missing = std::make_shared<Object>(*listed[0]);
  missing->meta.name = "repo-a-" + std::string(8, '0');
  missing->meta.uid = std::string(64, '0');
  stale.push_back(missing);
  auto refused = w.storage->DeleteAll(stale, UserInfo{"alice", "", {}, {}}, failed);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().kind() == ErrorKind::kNotFound);
  CHECK(failed == missing->meta.name);
  CHECK(fs::exists(w.dir.path + "/a/snapshots/" + a1.Hex()));
  CHECK(fs::exists(w.dir.path + "/a/snapshots/" + a2.Hex()));
  // Everything present: all removed, no lock left.
  std::vector<ObjectPtr> of_a;
  for (const auto& o : listed) {
    if (o->meta.name.rfind("repo-a-", 0) == 0) of_a.push_back(o);
  }
  auto deleted = w.storage->DeleteAll(of_a, UserInfo{"alice", "", {}, {}}, failed);
  REQUIRE(deleted.ok());
  CHECK(Names(*deleted) == std::set<std::string>{"repo-a-" + a1.Short(), "repo-a-" + a2.Short()});
  CHECK(fs::is_empty(w.dir.path + "/a/snapshots"));
  CHECK(fs::is_empty(w.dir.path + "/a/locks"));
}

TEST_CASE("a broken repository is left out with a warning and counted") {
  World w;
  AddSnapshot(*w.a, "web-1", 1000);
  w.source.repos.push_back(Spec("demo", "wrong-password", w.dir.path + "/b"));
  w.source.repos.back().password = "nope";
  w.source.repos.push_back(Spec("demo", "missing", w.dir.path + "/does-not-exist"));
  RepositorySpec no_secret = Spec("demo", "no-secret", "");
  no_secret.problem = "secret \"x\" not found";
  w.source.repos.push_back(no_secret);
  w.storage->Start();
  auto list = w.List("demo");
  CHECK(list.objects.size() == 1);
  REQUIRE(list.warnings.size() == 3);
  std::string all;
  for (const auto& warning : list.warnings) all += warning + "\n";
  CHECK(all.find("repository demo/wrong-password") != std::string::npos);
  CHECK(all.find("repository demo/missing") != std::string::npos);
  CHECK(all.find("secret \"x\" not found") != std::string::npos);
  CHECK(w.metrics.Value("stash_apiserver_repository_errors_total",
                        {{"namespace", "demo"}, {"repository", "missing"}}) == 1);
  CHECK(w.List("demo", "repository=repo-a").warnings.empty());  // not asked about
}

// A backend that blocks on every call until released: an unreachable server.
class StuckBackend : public LocalBackend {
 public:
  StuckBackend(std::string root, std::shared_future<void> release)
      : LocalBackend(std::move(root)), release_(std::move(release)) {}
  Result<std::vector<FileInfo>> List(FileType type) override {
    release_.wait();
    return LocalBackend::List(type);
  }

 private:
  std::shared_future<void> release_;
};

TEST_CASE("a hung backend delays a list only up to the backend timeout") {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  SnapshotStorageOptions o;
  o.backend_timeout = 300ms;
  std::string stuck_path;
  o.opener = [&](const RepositorySpec& spec) -> Result<std::unique_ptr<Backend>> {
    if (spec.location == stuck_path) {
      return std::unique_ptr<Backend>(std::make_unique<StuckBackend>(spec.location, released));
    }
    return OpenBackend(spec);
  };
  World w(o);
  stuck_path = w.dir.path + "/b";
  AddSnapshot(*w.a, "web-1", 1000);
  w.storage->Start();
  auto start = std::chrono::steady_clock::now();
  auto list = w.List("demo");
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < 2s);
  CHECK(list.objects.size() == 1);
  CHECK(list.warnings.size() == 1);
  CHECK(list.warnings.front().find("demo/repo-b is still loading") != std::string::npos);
  CHECK_FALSE(w.storage->Synced());
  release.set_value();  // before any REQUIRE: the stuck thread must end before World does
  for (int i = 0; i < 100 && !w.storage->Synced(); ++i) std::this_thread::sleep_for(20ms);
  CHECK(w.storage->Synced());
  CHECK(w.List("demo").warnings.empty());
}

// ---- The REST layer and the router ----

namespace {

class CapturingResponder : public Responder {
 public:
  void Send(Response r) override {
    r.body += r.pieces.Join();  // a list's body comes in pieces
    r.pieces = {};
    done_.set_value(std::move(r));
  }
  std::shared_ptr<StreamWriter> Stream(int status, std::string, Headers) override {
    Response r;
    r.status = status;
    r.body = "<stream>";
    done_.set_value(r);
    return nullptr;
  }
  Response Wait() {
    auto f = done_.get_future();
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
    return f.get();
  }

 private:
  std::promise<Response> done_;
};

struct Api {
  World w;
  ThreadPool requests{2};
  WatchManager watches;
  HealthChecks health;
  std::unique_ptr<RestHandler> rest;
  std::unique_ptr<UnionAuthenticator> authn;
  StandaloneAuthorizer authz;
  std::unique_ptr<Router> router;

  Api() {
    rest = std::make_unique<RestHandler>(*w.storage, requests, watches);
    std::vector<std::unique_ptr<Authenticator>> chain;
    chain.push_back(std::make_unique<ClientCertAuthenticator>());
    authn = std::make_unique<UnionAuthenticator>(std::move(chain));
    health.Add("ping", [] { return true; });
    Router::DeclareMetrics(w.metrics);
    router = std::make_unique<Router>(RouterParts{&health, authn.get(), &authz, &w.metrics, {rest.get()}, nullptr, nullptr});
  }
  ~Api() {
    watches.Stop();
    requests.Shutdown();
  }

  Response Call(const std::string& method, const std::string& target, const std::string& user = "admin",
                const std::string& accept = "", const std::string& body = "") {
    Request r;
    r.method = method;
    r.target = target;
    auto parsed = ParseTarget(target);
    REQUIRE(parsed);
    r.path = parsed->first;
    r.query = parsed->second;
    if (!accept.empty()) r.headers.Add("Accept", accept);
    if (!body.empty()) r.headers.Add("Content-Type", "application/json");
    r.body = body;
    if (!user.empty()) {
      r.client_cert.present = r.client_cert.verified = true;
      r.client_cert.common_name = user;
      // The namespace controller may delete anything in a cluster (RBAC).
      if (user == "admin" || user == kNamespaceController) r.client_cert.organizations = {"system:masters"};
    }
    auto responder = std::make_shared<CapturingResponder>();
    router->Handle(std::move(r), responder);
    return responder->Wait();
  }
};

const std::string kBase = "/apis/repositories.stash.appscode.com/v1alpha1";

std::string Reason(const Response& r) {
  rapidjson::Document d;
  d.Parse(r.body.data(), r.body.size());
  return d.IsObject() && d.HasMember("reason") ? d["reason"].GetString() : "";
}

}  // namespace

TEST_CASE("router: health without credentials, 401 for anonymous, 403 for readers deleting") {
  Api api;
  api.w.storage->Start();
  CHECK(api.Call("GET", "/healthz", "").body == "ok");
  CHECK(api.Call("GET", "/readyz?verbose", "").body == "[+]ping ok\nreadyz check passed\n");
  CHECK(api.Call("GET", "/livez/ping", "").status == 200);
  CHECK(api.Call("GET", "/healthz/nope", "").status == 404);
  CHECK(api.Call("GET", "/apis", "").status == 401);
  CHECK(Reason(api.Call("GET", kBase + "/snapshots", "")) == "Unauthorized");
  auto forbidden = api.Call("DELETE", kBase + "/namespaces/demo/snapshots/repo-a-12345678", "viewer");
  CHECK(forbidden.status == 403);
  CHECK(forbidden.body.find("User \\\"viewer\\\" cannot delete resource \\\"snapshots\\\" in API group "
                            "\\\"repositories.stash.appscode.com\\\" in the namespace \\\"demo\\\"") != std::string::npos);
  CHECK(api.Call("GET", kBase + "/namespaces/demo/snapshots", "viewer").status == 200);
}

TEST_CASE("router: discovery, errors for unknown paths and methods") {
  Api api;
  api.w.storage->Start();
  CHECK(api.Call("GET", "/apis").body.find("APIGroupList") != std::string::npos);
  auto agg = api.Call("GET", "/apis", "admin", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  CHECK(agg.content_type == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  CHECK(api.Call("GET", "/api").status == 404);
  CHECK(api.Call("GET", kBase).body.find("APIResourceList") != std::string::npos);
  CHECK(api.Call("GET", "/apis/other.group/v1").status == 404);
  CHECK(Reason(api.Call("GET", kBase + "/widgets")) == "NotFound");
  CHECK(api.Call("POST", kBase + "/namespaces/demo/snapshots").status == 405);
  CHECK(api.Call("PUT", kBase + "/namespaces/demo/snapshots/a-12345678").status == 405);
  CHECK(api.Call("PATCH", kBase + "/namespaces/demo/snapshots/a-12345678").status == 405);
  CHECK(api.Call("DELETE", kBase + "/snapshots").status == 405);
  CHECK(api.Call("POST", "/apis").status == 405);
  CHECK(api.Call("GET", kBase + "/namespaces/demo/snapshots/a-12345678/status").status == 404);
  CHECK(api.Call("GET", kBase + "/namespaces/demo/snapshots", "admin", "application/vnd.kubernetes.protobuf").status == 406);
  CHECK(Reason(api.Call("GET", kBase + "/namespaces/demo/snapshots?labelSelector=a%20in%20(")) == "BadRequest");
  CHECK(Reason(api.Call("GET", kBase + "/namespaces/demo/snapshots?fieldSelector=spec.x%3Dy")) == "BadRequest");
  CHECK(api.Call("GET", "/openapi/v3").body.find("serverRelativeURL") != std::string::npos);
  CHECK(api.Call("GET", "/metrics").body.find("# TYPE apiserver_request_total counter") != std::string::npos);
}

TEST_CASE("router: writes are refused naming why; OpenAPI v2 for kubectl; /version") {
  Api api;
  api.w.storage->Start();
  auto message = [](const Response& r) {
    rapidjson::Document d;
    d.Parse(r.body.data(), r.body.size());
    return d.IsObject() && d.HasMember("message") ? std::string(d["message"].GetString()) : "";
  };
  auto create = api.Call("POST", kBase + "/namespaces/demo/snapshots", "admin", "", "{}");
  CHECK(create.status == 405);
  CHECK(Reason(create) == "MethodNotAllowed");
  CHECK(message(create) == "snapshots are created by backups; create is not supported");
  CHECK(message(api.Call("PUT", kBase + "/namespaces/demo/snapshots/a-12345678", "admin", "", "{}")) ==
        "snapshots are created by backups; update is not supported");
  CHECK(message(api.Call("PATCH", kBase + "/namespaces/demo/snapshots/a-12345678", "admin", "", "{}")) ==
        "snapshots are created by backups; patch is not supported");
  CHECK(message(api.Call("DELETE", kBase + "/snapshots")) ==
        "the server does not allow this method on the requested resource");

  const std::string pb = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
  auto proto = api.Call("GET", "/openapi/v2?timeout=32s", "admin", pb);
  CHECK(proto.status == 200);
  CHECK(proto.content_type == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
  CHECK(proto.body.rfind(std::string("\x0a\x03" "2.0\x12"), 0) == 0);  // swagger = 1, info = 2
  CHECK(proto.headers.Get("Vary") == "Accept");
  auto json = api.Call("GET", "/openapi/v2", "admin", "application/json");
  CHECK(json.content_type == "application/json");
  CHECK(json.body.find("\"swagger\":\"2.0\"") != std::string::npos);
  CHECK(Reason(api.Call("GET", "/openapi/v2", "admin", "text/html")) == "NotAcceptable");
  CHECK(api.Call("GET", "/openapi/v2", "").status == 401);

  rapidjson::Document version;
  std::string body = api.Call("GET", "/version?timeout=32s").body;
  version.Parse(body.data(), body.size());
  REQUIRE(version.IsObject());
  CHECK(std::string(version["gitVersion"].GetString()) == std::string("v") + STASH_VERSION);
  std::string major = version["major"].GetString(), minor = version["minor"].GetString();
  CHECK(major + "." + minor + "." == std::string(STASH_VERSION).substr(0, major.size() + minor.size() + 2));
  CHECK(std::string(version["platform"].GetString()).rfind("linux/", 0) == 0);
}

TEST_CASE("REST: get, tables, dry runs, preconditions and delete") {
  Api api;
  Id id = AddSnapshot(*api.w.a, "web-1", 1000);
  api.w.storage->Start();
  std::string item = kBase + "/namespaces/demo/snapshots/repo-a-" + id.Short();
  auto got = api.Call("GET", item);
  CHECK(got.status == 200);
  CHECK(got.body.find("\"uid\":\"" + id.Hex() + "\"") != std::string::npos);
  auto table = api.Call("GET", kBase + "/snapshots?limit=500", "admin", "application/json;as=Table;v=v1;g=meta.k8s.io");
  CHECK(table.body.find("\"kind\":\"Table\"") != std::string::npos);
  CHECK(table.body.find("repo-a-" + id.Short()) != std::string::npos);
  CHECK(Reason(api.Call("GET", kBase + "/namespaces/demo/snapshots/repo-a-00000000")) == "NotFound");
  auto dry = api.Call("DELETE", item, "admin", "", "{\"dryRun\":[\"All\"]}");
  CHECK(dry.status == 200);
  CHECK(fs::exists(api.w.dir.path + "/a/snapshots/" + id.Hex()));
  CHECK(Reason(api.Call("DELETE", item, "admin", "", "{\"preconditions\":{\"uid\":\"other\"}}")) == "Conflict");
  CHECK(Reason(api.Call("DELETE", item, "admin", "", "{\"dryRun\":[\"x\"]}")) == "BadRequest");
  auto deleted = api.Call("DELETE", item, "admin", "", "{\"propagationPolicy\":\"Background\"}");
  CHECK(deleted.status == 200);
  CHECK_FALSE(fs::exists(api.w.dir.path + "/a/snapshots/" + id.Hex()));
  CHECK(api.Call("GET", item).status == 404);
  CHECK(api.Call("DELETE", item).status == 404);
}

TEST_CASE("REST: deletecollection honours selectors and keeps backups of a namespace being deleted") {
  Api api;
  Id keep = AddSnapshot(*api.w.a, "keep", 1000);
  Id drop = AddSnapshot(*api.w.b, "drop", 2000);
  api.w.storage->Start();
  auto by_controller = api.Call("DELETE", kBase + "/namespaces/demo/snapshots", std::string(kNamespaceController));
  CHECK(by_controller.status == 200);
  CHECK(fs::exists(api.w.dir.path + "/a/snapshots/" + keep.Hex()));
  CHECK(fs::exists(api.w.dir.path + "/b/snapshots/" + drop.Hex()));
  auto r = api.Call("DELETE", kBase + "/namespaces/demo/snapshots?labelSelector=hostname%3Ddrop");
  CHECK(r.status == 200);
  CHECK(r.body.find("repo-b-" + drop.Short()) != std::string::npos);
  CHECK_FALSE(fs::exists(api.w.dir.path + "/b/snapshots/" + drop.Hex()));
  CHECK(fs::exists(api.w.dir.path + "/a/snapshots/" + keep.Hex()));
}
