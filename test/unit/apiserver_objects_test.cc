// What the apiserver serves: snapshot objects in Stash 0.8.3's shape,
// tables, lists and paging, discovery and OpenAPI documents, DeleteOptions,
// and the manifests standalone mode reads.
#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include "apiserver/machinery/discovery.h"
#include "apiserver/machinery/list_options.h"
#include "apiserver/snapshots/manifests.h"
#include "apiserver/machinery/openapi.h"
#include "apiserver/machinery/render.h"
#include "apiserver/snapshots/snapshot_object.h"
#include "apiserver/machinery/watch.h"

using namespace stash;
using namespace stash::apiserver;

namespace {

rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

std::string S(const rapidjson::Value& v) { return std::string(v.GetString(), v.GetStringLength()); }

RepositorySpec Repo(std::string ns = "demo", std::string name = "deployment.app") {
  RepositorySpec r;
  r.ns = std::move(ns);
  r.name = std::move(name);
  r.labels = {{"restic", "app"}, {"workload-kind", "Deployment"}, {"repository", "overridden"}};
  return r;
}

Snapshot MakeSnapshot(int64_t seconds, std::string host, std::vector<std::string> tags = {}) {
  Snapshot s;
  s.time.seconds = seconds;
  s.time.nanos = 123456789;
  s.tree = *Id::FromHex(std::string(64, 'b'));
  s.paths = {"/data", "/etc"};
  s.hostname = std::move(host);
  s.username = "root";
  s.uid = 0;
  s.gid = 5;
  s.tags = std::move(tags);
  return s;
}

const Id kId = *Id::FromHex("1a2b3c4d" + std::string(56, 'e'));

}  // namespace

TEST_CASE("snapshot objects have Stash 0.8.3's shape") {
  ObjectPtr o = MakeSnapshotObject(Repo(), kId, MakeSnapshot(1704067200, "web-1", {"nightly"}), 42);
  RenderOptions r;
  auto doc = ParseJson(RenderObject(SnapshotResourceInfo(), SnapshotColumns(), o, r));
  CHECK(S(doc["apiVersion"]) == "repositories.stash.appscode.com/v1alpha1");
  CHECK(S(doc["kind"]) == "Snapshot");
  const auto& m = doc["metadata"];
  CHECK(S(m["name"]) == "deployment.app-1a2b3c4d");
  CHECK(S(m["namespace"]) == "demo");
  CHECK(S(m["uid"]) == kId.Hex());
  CHECK(S(m["resourceVersion"]) == "42");
  CHECK(S(m["creationTimestamp"]) == "2024-01-01T00:00:00Z");
  CHECK(S(m["labels"]["restic"]) == "app");
  CHECK(S(m["labels"]["workload-kind"]) == "Deployment");
  CHECK(S(m["labels"]["repository"]) == "deployment.app");  // ours wins over the Repository's
  CHECK(S(m["labels"]["hostname"]) == "web-1");
  const auto& st = doc["status"];
  CHECK(S(st["tree"]) == std::string(64, 'b'));
  CHECK(st["paths"].Size() == 2);
  CHECK(S(st["hostname"]) == "web-1");
  CHECK(S(st["username"]) == "root");
  CHECK(st["uid"].GetInt() == 0);  // always present, as 0.8.3 emits it
  CHECK(st["gid"].GetInt() == 5);
  CHECK(S(st["tags"][0]) == "nightly");
  ObjectPtr untagged = MakeSnapshotObject(Repo(), kId, MakeSnapshot(1704067200, "web-1"), 1);
  CHECK_FALSE(ParseJson(RenderObject(SnapshotResourceInfo(), SnapshotColumns(), untagged, r))["status"].HasMember("tags"));
}

TEST_CASE("labels are computed per snapshot") {
  auto a = MakeSnapshotObject(Repo(), kId, MakeSnapshot(1, "host-a"), 1);
  auto b = MakeSnapshotObject(Repo(), *Id::FromHex(std::string(64, 'c')), MakeSnapshot(1, "host-b"), 2);
  CHECK(a->meta.labels.at("hostname") == "host-a");
  CHECK(b->meta.labels.at("hostname") == "host-b");
}

TEST_CASE("snapshot names parse back to repository and short id") {
  CHECK(ParseSnapshotName("deployment.app-1a2b3c4d") == std::make_pair(std::string("deployment.app"), std::string("1a2b3c4d")));
  CHECK(ParseSnapshotName("statefulset.db-0-d690726d")->first == "statefulset.db-0");
  CHECK_FALSE(ParseSnapshotName("nope"));
  CHECK_FALSE(ParseSnapshotName("-1a2b3c4d"));
  CHECK_FALSE(ParseSnapshotName("x-1A2B3C4D"));
  CHECK_FALSE(ParseSnapshotName("x-1a2b3c4"));
  CHECK_FALSE(ParseSnapshotName("x-1a2b3c4g"));
}

TEST_CASE("tables: columns, formatted ages, row objects") {
  auto o = MakeSnapshotObject(Repo(), kId, MakeSnapshot(1704067200, "web-1", {"a", "b"}), 7);
  TableOptions t;
  t.now = 1704067200 + 300;
  ListMeta meta;
  meta.resource_version = 9;
  auto doc = ParseJson(RenderTable(SnapshotResourceInfo(), SnapshotColumns(), {o}, t, meta));
  CHECK(S(doc["kind"]) == "Table");
  CHECK(S(doc["apiVersion"]) == "meta.k8s.io/v1");
  CHECK(S(doc["metadata"]["resourceVersion"]) == "9");
  const auto& cols = doc["columnDefinitions"];
  REQUIRE(cols.Size() == SnapshotColumns().size());
  CHECK(S(cols[0]["format"]) == "name");
  const auto& cells = doc["rows"][0]["cells"];
  CHECK(S(cells[0]) == "deployment.app-1a2b3c4d");
  CHECK(S(cells[1]) == "deployment.app");
  CHECK(S(cells[2]) == "web-1");
  CHECK(S(cells[3]) == "5m");
  CHECK(S(cells[4]) == "/data,/etc");
  CHECK(S(cells[5]) == "a,b");
  CHECK(S(cells[6]) == "2024-01-01T00:00:00Z");
  const auto& row = doc["rows"][0]["object"];
  CHECK(S(row["kind"]) == "PartialObjectMetadata");
  CHECK(S(row["metadata"]["namespace"]) == "demo");
  t.headers = false;
  t.include = IncludeObject::kNone;
  auto bare = ParseJson(RenderTable(SnapshotResourceInfo(), SnapshotColumns(), {o}, t, meta));
  CHECK(bare["columnDefinitions"].Size() == 0);
  CHECK_FALSE(bare["rows"][0].HasMember("object"));
  auto empty = ParseJson(RenderTable(SnapshotResourceInfo(), SnapshotColumns(), {}, t, meta));
  CHECK(empty["rows"].IsArray());
}

TEST_CASE("sealed bytes are what a fresh rendering of the object gives") {
  // Objects as the cache holds them (sealed when made) against the same
  // objects with nothing sealed, in every shape lists, gets and watches serve.
  std::vector<ObjectPtr> sealed, fresh;
  auto add = [&](ObjectPtr o) {
    auto bare = std::make_shared<Object>(*o);
    bare->rendered = {};
    sealed.push_back(o);
    fresh.push_back(bare);
  };
  add(MakeSnapshotObject(Repo(), kId, MakeSnapshot(1704067200, "web-1", {"nightly", "a\"b"}), 42));
  add(MakeSnapshotObject(Repo("demo", "r<&>"), *Id::FromHex(std::string(64, 'c')),
                         MakeSnapshot(1704067200 - 86400 * 900, "h\xff\x01st"), 43));
  // A generic object: ages first, last, unknown (0) and in the future.
  auto generic = std::make_shared<Object>();
  generic->meta.name = "g";
  generic->meta.ns = "demo";
  generic->meta.resource_version = 7;
  generic->fields = {{"spec", "{\"x\":1}"}};
  generic->cells = {Cell::Age(1704067000), Cell::Text("t"), Cell::Integer(-3), Cell::Age(0),
                    Cell::Age(1704067200 + 1000), Cell::Age(1704067200 - 3000)};
  Seal(*generic, SnapshotResourceInfo().group_version(), SnapshotResourceInfo().kind);
  add(generic);
  REQUIRE(generic->rendered.ages.size() == 4);

  ListMeta meta;
  meta.resource_version = 99;
  meta.continue_token = "abc";
  meta.remaining_items = 3;
  for (auto representation : {Representation::kJson, Representation::kTable, Representation::kPartialMetadata}) {
    for (const char* version : {"", "v1", "v1beta1"}) {
      for (auto include : {IncludeObject::kNone, IncludeObject::kMetadata, IncludeObject::kObject}) {
        for (bool headers : {true, false}) {
          RenderOptions r;
          r.media.representation = representation;
          r.media.version = version;
          r.include = include;
          r.table_headers = headers;
          r.now = 1704067200 + 300;
          INFO("representation " << static_cast<int>(representation) << " version " << version << " include "
                                 << static_cast<int>(include));
          std::string list = RenderList(SnapshotResourceInfo(), SnapshotColumns(), sealed, meta, r);
          CHECK(list == RenderList(SnapshotResourceInfo(), SnapshotColumns(), fresh, meta, r));
          ParseJson(list);
          for (size_t i = 0; i < sealed.size(); ++i) {
            std::string one = RenderObject(SnapshotResourceInfo(), SnapshotColumns(), sealed[i], r);
            CHECK(one == RenderObject(SnapshotResourceInfo(), SnapshotColumns(), fresh[i], r));
            ParseJson(one);
          }
        }
      }
    }
  }
  // The sealed row's cells, with the ages of the request's time put in.
  TableOptions t;
  t.now = 1704067200;
  auto doc = ParseJson(RenderTable(SnapshotResourceInfo(), SnapshotColumns(), {generic}, t, meta));
  const auto& cells = doc["rows"][0]["cells"];
  REQUIRE(cells.Size() == 6);
  CHECK(S(cells[0]) == "3m20s");
  CHECK(S(cells[1]) == "t");
  CHECK(cells[2].GetInt() == -3);
  CHECK(S(cells[3]) == "<unknown>");
  CHECK(S(cells[4]) == "<invalid>");
  CHECK(S(cells[5]) == "50m");
  t.now += 3600;
  auto later = ParseJson(RenderTable(SnapshotResourceInfo(), SnapshotColumns(), {generic}, t, meta));
  CHECK(S(later["rows"][0]["cells"][5]) == "110m");
  // A copy at another resourceVersion (a DELETED event) is sealed again.
  auto moved = WithResourceVersion(sealed[0], 1234);
  CHECK(moved->rendered.object.find("\"resourceVersion\":\"1234\"") != std::string::npos);
  auto moved_bare = std::make_shared<Object>(*moved);
  moved_bare->rendered = {};
  RenderOptions json;
  CHECK(RenderObject(SnapshotResourceInfo(), SnapshotColumns(), moved, json) ==
        RenderObject(SnapshotResourceInfo(), SnapshotColumns(), moved_bare, json));
}

TEST_CASE("lists, PartialObjectMetadataList and bookmarks") {
  auto o = MakeSnapshotObject(Repo(), kId, MakeSnapshot(1, "h"), 3);
  RenderOptions r;
  ListMeta meta;
  meta.resource_version = 5;
  auto list = ParseJson(RenderList(SnapshotResourceInfo(), SnapshotColumns(), {}, meta, r));
  CHECK(S(list["kind"]) == "SnapshotList");
  CHECK(list["items"].IsArray());  // [] not null
  r.media.representation = Representation::kPartialMetadata;
  auto partial = ParseJson(RenderList(SnapshotResourceInfo(), SnapshotColumns(), {o}, meta, r));
  CHECK(S(partial["kind"]) == "PartialObjectMetadataList");
  CHECK(S(partial["items"][0]["metadata"]["name"]) == o->meta.name);
  auto bookmark = ParseJson(RenderBookmark(SnapshotResourceInfo(), 77, true, RenderOptions{}));
  CHECK(S(bookmark["kind"]) == "Snapshot");
  CHECK(S(bookmark["metadata"]["resourceVersion"]) == "77");
  CHECK(S(bookmark["metadata"]["annotations"]["k8s.io/initial-events-end"]) == "true");
  CHECK(WatchLine("ADDED", "{}") == "{\"type\":\"ADDED\",\"object\":{}}\n");
}

TEST_CASE("paging with limit and continue") {
  std::vector<ObjectPtr> all;
  for (char c : std::string("abcde")) {
    all.push_back(MakeSnapshotObject(Repo(), *Id::FromHex(std::string(64, c)), MakeSnapshot(1, "h"), 1));
  }
  SortObjects(all);
  ListOptions o;
  o.limit = 2;
  std::vector<std::string> names;
  for (int page = 0; page < 5; ++page) {
    ListMeta meta;
    auto items = Page(all, o, meta);
    REQUIRE(items.ok());
    for (const auto& i : *items) names.push_back(i->meta.name);
    if (meta.continue_token.empty()) break;
    CHECK(*meta.remaining_items == static_cast<int64_t>(all.size() - names.size()));
    o.continue_token = meta.continue_token;
  }
  CHECK(names.size() == 5);
  CHECK(std::is_sorted(names.begin(), names.end()));
  o.continue_token = "not-a-token!";
  ListMeta meta;
  CHECK_FALSE(Page(all, o, meta).ok());
}

TEST_CASE("list options from the query") {
  auto o = ParseListOptions(*Query::Parse("labelSelector=a%3Db&limit=10&watch=true&allowWatchBookmarks=true&"
                                          "timeoutSeconds=30&resourceVersion=12&includeObject=Object&x=y"));
  REQUIRE(o.ok());
  CHECK(o->limit == 10);
  CHECK(o->watch);
  CHECK(o->allow_bookmarks);
  CHECK(*o->timeout_seconds == 30);
  CHECK(o->resource_version == "12");
  CHECK(o->include == IncludeObject::kObject);
  for (const char* bad : {"limit=ten", "timeoutSeconds=-1", "labelSelector=a%20in", "fieldSelector=spec.x%3D1",
                          "includeObject=All"}) {
    INFO(bad);
    CHECK_FALSE(ParseListOptions(*Query::Parse(bad)).ok());
  }
}

TEST_CASE("DeleteOptions: dry run, preconditions, bodies") {
  auto opts = [](std::string body, std::string type = "application/json", std::string query = "") {
    Request r;
    r.body = std::move(body);
    r.headers.Add("Content-Type", type);
    r.query = *Query::Parse(query);
    return ParseDeleteOptions(r);
  };
  CHECK(opts("{\"propagationPolicy\":\"Background\",\"dryRun\":[\"All\"]}")->dry_run);
  CHECK_FALSE(opts("")->dry_run);
  CHECK(opts("", "", "dryRun=All")->dry_run);
  CHECK(opts("{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"orphanDependents\":false}").ok());
  CHECK(opts("{\"dryRun\":[\"Some\"]}").error().kind() == ErrorKind::kInvalid);
  CHECK(opts("{\"dryRun\":\"All\"}").error().kind() == ErrorKind::kInvalid);
  CHECK(opts("{not json").error().kind() == ErrorKind::kInvalid);
  CHECK(opts("[1,2]").error().kind() == ErrorKind::kInvalid);
  CHECK(opts("\x0a\x02\x08\x01", "application/vnd.kubernetes.protobuf").error().kind() == ErrorKind::kUnsupported);
  auto pre = opts("{\"preconditions\":{\"uid\":\"u1\",\"resourceVersion\":\"5\"}}");
  REQUIRE(pre.ok());
  Object o;
  o.meta.uid = "u1";
  o.meta.resource_version = 5;
  CHECK(CheckPreconditions(*pre, o).ok());
  o.meta.uid = "u2";
  auto conflict = CheckPreconditions(*pre, o);
  REQUIRE_FALSE(conflict.ok());
  CHECK(conflict.error().kind() == ErrorKind::kConflict);
  CHECK(conflict.error().message() == "Precondition failed: UID in precondition: u1, UID in object meta: u2");
}

TEST_CASE("discovery documents") {
  Discovery d({SnapshotResourceInfo()});
  auto groups = ParseJson(d.GroupList());
  CHECK(S(groups["kind"]) == "APIGroupList");
  CHECK(S(groups["groups"][0]["preferredVersion"]["groupVersion"]) == "repositories.stash.appscode.com/v1alpha1");
  auto resources = ParseJson(*d.ResourceList("repositories.stash.appscode.com", "v1alpha1"));
  const auto& r = resources["resources"][0];
  CHECK(S(r["name"]) == "snapshots");
  CHECK(S(r["singularName"]) == "snapshot");
  CHECK(r["namespaced"].GetBool());
  CHECK(S(r["kind"]) == "Snapshot");
  CHECK(r["verbs"].Size() == 5);
  CHECK_FALSE(r.HasMember("shortNames"));
  CHECK(S(r["categories"][2]) == "all");
  CHECK_FALSE(d.ResourceList("repositories.stash.appscode.com", "v1"));
  CHECK_FALSE(d.Group("stash.appscode.com"));
  auto agg = ParseJson(d.Aggregated("v2"));
  CHECK(S(agg["apiVersion"]) == "apidiscovery.k8s.io/v2");
  const auto& res = agg["items"][0]["versions"][0]["resources"][0];
  CHECK(S(res["scope"]) == "Namespaced");
  CHECK(S(res["responseKind"]["kind"]) == "Snapshot");
  CHECK(ParseJson(Discovery::EmptyAggregated("v2beta1"))["items"].Size() == 0);
}

TEST_CASE("OpenAPI documents carry the group-version-kind kubectl explain looks for") {
  OpenApi api({{SnapshotResourceInfo(), SnapshotSchema()}});
  auto index = ParseJson(api.V3Index());
  std::string url = S(index["paths"]["apis/repositories.stash.appscode.com/v1alpha1"]["serverRelativeURL"]);
  CHECK(url == "/openapi/v3/apis/repositories.stash.appscode.com/v1alpha1?hash=" +
                   api.V3Hash("repositories.stash.appscode.com/v1alpha1"));
  auto v3 = ParseJson(*api.V3("repositories.stash.appscode.com/v1alpha1"));
  const auto& schema = v3["components"]["schemas"]["com.appscode.stash.repositories.v1alpha1.Snapshot"];
  CHECK(S(schema["x-kubernetes-group-version-kind"][0]["kind"]) == "Snapshot");
  CHECK(schema["properties"]["status"]["properties"].HasMember("hostname"));
  const auto& get = v3["paths"]["/apis/repositories.stash.appscode.com/v1alpha1/namespaces/{namespace}/snapshots/{name}"]["get"];
  CHECK(S(get["x-kubernetes-action"]) == "get");
  auto v2 = ParseJson(api.V2());
  CHECK(S(v2["swagger"]) == "2.0");
  CHECK(v2["definitions"].HasMember("com.appscode.stash.repositories.v1alpha1.SnapshotList"));
}

TEST_CASE("watch hub: replay from a version, expiry, unsubscribe") {
  WatchHub hub(100, 3);
  auto publish = [&](const char* name) {
    auto o = std::make_shared<Object>();
    o->meta.name = name;
    o->meta.resource_version = hub.NextVersion();
    hub.Publish({WatchEvent::kAdded, o});
  };
  publish("a");  // 101
  publish("b");  // 102
  std::vector<std::string> seen;
  auto sub = hub.Subscribe(101, [&](const WatchEvent& e) { seen.push_back(e.object->meta.name); });
  REQUIRE(sub.ok());
  publish("c");
  CHECK(seen == std::vector<std::string>{"b", "c"});
  publish("d");  // history keeps 3: b c d
  CHECK_FALSE(hub.Subscribe(100, [](const WatchEvent&) {}).ok());
  CHECK(hub.Subscribe(101, [](const WatchEvent&) {}).ok());
  CHECK_FALSE(hub.Subscribe(500, [](const WatchEvent&) {}).ok());  // from the future: another process
  sub->reset();
  publish("e");
  CHECK(seen.size() == 3);
  CHECK(hub.version() == 105);
}

TEST_CASE("manifests: Repositories, Secrets (data and stringData), Namespaces") {
  const char* yaml = R"(
apiVersion: v1
kind: Secret
metadata: {name: s3-secret, namespace: demo}
stringData: {RESTIC_PASSWORD: from-string}
---
apiVersion: v1
kind: Secret
metadata: {name: local-secret, namespace: demo}
data:
  RESTIC_PASSWORD: cGFzc3dvcmQ=
---
apiVersion: stash.appscode.com/v1alpha1
kind: Repository
metadata:
  name: deployment.app
  namespace: demo
  labels: {restic: app}
spec:
  backend:
    storageSecretName: local-secret
    local:
      mountPath: /safe/data
      hostPath: {path: /data/stash}
      subPath: deployment/app
---
apiVersion: stash.appscode.com/v1alpha1
kind: Repository
metadata: {name: on-nfs, namespace: demo}
spec:
  backend:
    storageSecretName: local-secret
    local: {mountPath: /mnt/backup/, nfs: {server: x, path: /}, subPath: a//b/}
---
apiVersion: stash.appscode.com/v1alpha1
kind: Repository
metadata: {name: cloud, namespace: demo}
spec: {backend: {storageSecretName: s3-secret, s3: {bucket: b}}}
---
apiVersion: stash.appscode.com/v1alpha1
kind: Repository
metadata: {name: orphan}
spec: {backend: {storageSecretName: nowhere, local: {mountPath: /x}}}
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: going, deletionTimestamp: "2024-01-01T00:00:00Z"}}
- {apiVersion: v1, kind: Namespace, metadata: {name: stays}}
- {apiVersion: v1, kind: Namespace, metadata: {name: ending}, status: {phase: Terminating}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ignored}
---
)";
  auto m = ParseManifests(yaml, "test.yaml");
  REQUIRE(m.ok());
  CHECK(m->terminating_namespaces == std::vector<std::string>{"going", "ending"});
  CHECK(m->skipped == 1);  // the Deployment
  auto repos = ResolveRepositories(*m);
  REQUIRE(repos.size() == 4);
  std::map<std::string, RepositorySpec> by;
  for (auto& r : repos) by[r.key()] = r;
  CHECK(by["demo/deployment.app"].location == "/data/stash/deployment/app");
  CHECK(by["demo/deployment.app"].password == "password");
  CHECK(by["demo/deployment.app"].labels.at("restic") == "app");
  CHECK(by["demo/deployment.app"].problem.empty());
  CHECK(by["demo/on-nfs"].location == "/mnt/backup/a/b");
  CHECK(by["demo/cloud"].location == "s3:s3.amazonaws.com/b");
  CHECK(by["demo/cloud"].problem.empty());
  CHECK(by["default/orphan"].problem == "secret \"nowhere\" not found");
}

TEST_CASE("manifests: bad input is an error naming the file, never a throw") {
  for (const char* bad : {"a: [unclosed", "key: \"open", "- just\n- a list\n", "\t\x01\x02: :", "{{{{",
                          "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {K: '***'}\n",
                          "apiVersion: stash.appscode.com/v1alpha1\nkind: Repository\nmetadata: {}\n"}) {
    INFO(bad);
    auto m = ParseManifests(bad, "bad.yaml");
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().message().rfind("bad.yaml", 0) == 0);
  }
  CHECK(ParseManifests("", "empty.yaml").ok());
  CHECK(ParseManifests("---\n---\n", "empty.yaml").ok());
  CHECK(ParseManifests("apiVersion: stash.appscode.com/v1alpha1\nkind: Repository\nmetadata: {name: [1]}\n", "x").ok() == false);
  auto scalar_fields = ParseManifests(
      "apiVersion: stash.appscode.com/v1alpha1\nkind: Repository\nmetadata: {name: r, labels: [a]}\n"
      "spec: {backend: 7}\n", "odd.yaml");
  REQUIRE(scalar_fields.ok());
  CHECK(ResolveRepositories(*scalar_fields)[0].problem == "spec.backend names no storage backend");
}

namespace {
StashBackend Local(std::string host, std::string mount, std::string sub) {
  StashBackend b;
  b.type = "local";
  b.host_path = std::move(host);
  b.mount_path = std::move(mount);
  b.sub_path = std::move(sub);
  return b;
}
}  // namespace

TEST_CASE("local backend paths: hostPath or mountPath, plus subPath, absolute and inside the volume") {
  CHECK(*LocalRepositoryPath(Local("/host", "/mnt", "sub")) == "/host/sub");
  CHECK(*LocalRepositoryPath(Local("", "/mnt", "")) == "/mnt");
  CHECK_FALSE(LocalRepositoryPath(Local("", "", "x")).ok());
  CHECK_FALSE(LocalRepositoryPath(Local("relative", "", "")).ok());
  CHECK_FALSE(LocalRepositoryPath(Local("/host", "", "../etc")).ok());
  CHECK_FALSE(LocalRepositoryPath(Local("/host", "", "a/../../etc")).ok());
}

TEST_CASE("Stash backends map to restic locations as Stash 0.8.3 built them") {
  std::map<std::string, std::string> none;
  StashBackend s3;
  s3.type = "s3";
  s3.endpoint = "http://minio.storage:9000";
  s3.bucket = "backups";
  s3.prefix = "/team//a/";
  CHECK(*RepositoryLocation(s3, none) == "s3:http://minio.storage:9000/backups/team/a");
  s3.endpoint = "";
  s3.prefix = "";
  CHECK(*RepositoryLocation(s3, none) == "s3:s3.amazonaws.com/backups");
  // A 0.8.3 sidecar stored "<bucket>/<prefix>/<smart prefix>"; its apiserver trimmed the bucket.
  s3.prefix = "backups/demo/deployment/app";
  CHECK(*RepositoryLocation(s3, none) == "s3:s3.amazonaws.com/backups/backups/demo/deployment/app");
  s3.sidecar_created = true;
  CHECK(*RepositoryLocation(s3, none) == "s3:s3.amazonaws.com/backups/demo/deployment/app");
  s3.bucket = "";
  CHECK(RepositoryLocation(s3, none).error().message() == "s3 backend has no bucket");

  StashBackend gcs;
  gcs.type = "gcs";
  gcs.bucket = "g";
  gcs.prefix = "/x/y/";
  CHECK(*RepositoryLocation(gcs, none) == "gs:g:/x/y");
  StashBackend azure;
  azure.type = "azure";
  azure.container = "c";
  CHECK(*RepositoryLocation(azure, none) == "azure:c:/");
  StashBackend swift;
  swift.type = "swift";
  swift.container = "sw";
  swift.prefix = "p";
  CHECK(*RepositoryLocation(swift, none) == "swift:sw:/p");
  StashBackend b2;
  b2.type = "b2";
  b2.bucket = "bb";
  b2.prefix = "/q";
  CHECK(*RepositoryLocation(b2, none) == "b2:bb:q");
  StashBackend rest;
  rest.type = "rest";
  rest.url = "https://rest.example:8000/repo";
  CHECK(*RepositoryLocation(rest, none) == "rest:https://rest.example:8000/repo");
  std::map<std::string, std::string> creds = {{"REST_SERVER_USERNAME", "u@x"},
                                              {"REST_SERVER_PASSWORD", "p:w"}};
  CHECK(*RepositoryLocation(rest, creds) == "rest:https://u%40x:p%3Aw@rest.example:8000/repo");
  StashBackend none_set;
  CHECK_FALSE(RepositoryLocation(none_set, none).ok());
}

TEST_CASE("a Repository's Secret becomes its backend settings") {
  StashBackend s3;
  s3.type = "s3";
  s3.region = "eu-west-3";
  auto options = SettingsFromSecret(s3, {{"AWS_ACCESS_KEY_ID", "id"}, {"CA_CERT_DATA", "PEM"}});
  CHECK(options.Get("AWS_ACCESS_KEY_ID") == "id");
  CHECK(options.Get("AWS_DEFAULT_REGION") == "eu-west-3");
  CHECK(options.Get("AWS_SECRET_ACCESS_KEY").empty());
  CHECK(options.http.ca_pem == "PEM");
}
