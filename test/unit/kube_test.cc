// The Kubernetes client without a cluster: the work queue's guarantees,
// Status errors, exec credentials, and informers and retries against a
// scripted HTTP server. test/interop/kube_client.sh runs the same client
// against a real kube-apiserver.
#include <catch2/catch.hpp>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "base/text_file.h"
#include "kube/client.h"
#include "kube/credentials.h"
#include "kube/informer.h"
#include "kube/work_queue.h"
#include "test/unit/fake_http_server.h"

using namespace stash;
using namespace stash::kube;
using namespace std::chrono_literals;

namespace {

testing::FakeAction Answer(int status, std::string body, std::string headers = "") {
  testing::FakeAction a;
  a.status = status;
  a.body = std::move(body);
  a.extra_headers = std::move(headers);
  return a;
}

std::unique_ptr<Client> ClientFor(const testing::FakeHttpServer& server) {
  ClusterAccess access;
  access.server = "http://127.0.0.1:" + std::to_string(server.port());
  access.token = "t0ken";
  ClientOptions options;
  options.timeout = 5s;
  auto client = Client::Create(access, options);
  REQUIRE(client.ok());
  return std::move(*client);
}

std::string ConfigMap(const std::string& name, const std::string& rv) {
  return R"({"metadata":{"name":")" + name + R"(","namespace":"ns","resourceVersion":")" + rv +
         R"(","labels":{"app":")" + name + R"("}}})";
}

std::string ListOf(const std::string& rv, const std::vector<std::string>& items) {
  std::string body = R"({"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":")" + rv + R"("},"items":[)";
  for (size_t i = 0; i < items.size(); ++i) body += (i ? "," : "") + items[i];
  return body + "]}";
}

std::string Event(const std::string& type, const std::string& object) {
  return R"({"type":")" + type + R"(","object":)" + object + "}\n";
}

template <class F>
bool Eventually(F condition, std::chrono::milliseconds limit = 5000ms) {
  for (auto end = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < end;) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

}  // namespace

TEST_CASE("kube: the work queue hands a key to one worker at a time and queues it once") {
  WorkQueue q;
  q.Add("a");
  q.Add("a");
  q.Add("b");
  CHECK(q.Len() == 2);
  auto first = q.Get();
  REQUIRE(first == std::optional<std::string>("a"));
  q.Add("a");  // while "a" is processed: held back until Done
  auto second = q.Get();
  CHECK(second == std::optional<std::string>("b"));
  CHECK(q.Len() == 0);
  q.Done("a");
  CHECK(q.Len() == 1);
  CHECK(q.Get() == std::optional<std::string>("a"));
  q.Done("a");
  q.Done("b");

  SECTION("per-key backoff doubles, and Forget resets it") {
    RateLimits limits;
    limits.base_delay = 20ms;
    WorkQueue slow(limits);
    auto start = std::chrono::steady_clock::now();
    slow.AddRateLimited("x");  // 20 ms
    REQUIRE(slow.Get() == std::optional<std::string>("x"));
    slow.Done("x");
    slow.AddRateLimited("x");  // 40 ms
    REQUIRE(slow.Get() == std::optional<std::string>("x"));
    slow.Done("x");
    CHECK(std::chrono::steady_clock::now() - start >= 60ms);
    CHECK(slow.Retries("x") == 2);
    slow.Forget("x");
    CHECK(slow.Retries("x") == 0);
  }
  SECTION("AddAfter wakes a waiting worker when due; ShutDown releases workers") {
    WorkQueue w;
    std::optional<std::string> got;
    std::thread worker([&] { got = w.Get(); });
    w.AddAfter("later", 50ms);
    worker.join();
    CHECK(got == std::optional<std::string>("later"));
    std::thread idle([&] { got = w.Get(); });
    std::this_thread::sleep_for(20ms);
    w.ShutDown();
    idle.join();
    CHECK_FALSE(got.has_value());
  }
}

TEST_CASE("kube: errors carry the server's Status reason and code") {
  testing::FakeHttpServer server;
  auto client = ClientFor(server);
  server.Script({Answer(409, R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":)"
                             R"("configmaps \"a\" already exists","reason":"AlreadyExists","code":409})"),
                 Answer(403, R"({"kind":"Status","status":"Failure","message":"nope","reason":"Forbidden","code":403})"),
                 Answer(404, "not json")});
  auto created = client->Create(resources::kConfigMaps, "ns", ConfigMap("a", "1"));
  REQUIRE_FALSE(created.ok());
  CHECK(created.error().kind() == ErrorKind::kConflict);
  CHECK(Reason(created.error()) == "AlreadyExists");
  CHECK(created.error().message().find("already exists") != std::string::npos);
  auto forbidden = client->Get(resources::kConfigMaps, "ns", "a");
  CHECK(forbidden.error().kind() == ErrorKind::kAuth);
  CHECK(Reason(forbidden.error()) == "Forbidden");
  auto missing = client->Get(resources::kConfigMaps, "ns", "a");
  CHECK(missing.error().kind() == ErrorKind::kNotFound);
  auto seen = server.requests();
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].method == "POST");
  CHECK(seen[0].target == "/api/v1/namespaces/ns/configmaps");
  CHECK(seen[0].headers.find("Bearer t0ken") != std::string::npos);
}

TEST_CASE("kube: 429 is retried after the server's Retry-After; 409 on update reads again") {
  testing::FakeHttpServer server;
  auto client = ClientFor(server);
  server.Script({Answer(429, R"({"kind":"Status","reason":"TooManyRequests","code":429})", "Retry-After: 1\r\n"),
                 Answer(200, ConfigMap("a", "1"))});
  auto start = std::chrono::steady_clock::now();
  auto got = client->Get(resources::kConfigMaps, "ns", "a");
  REQUIRE(got.ok());
  CHECK(std::chrono::steady_clock::now() - start >= 950ms);

  server.Script({Answer(200, ConfigMap("a", "1")),
                 Answer(409, R"({"kind":"Status","reason":"Conflict","code":409})"),
                 Answer(200, ConfigMap("a", "2")), Answer(200, ConfigMap("a", "3"))});
  int calls = 0;
  auto updated = client->Modify(resources::kConfigMaps, "ns", "a", [&](rapidjson::Document& d) {
    ++calls;
    d["metadata"].AddMember("generateName", "x", d.GetAllocator());
    return true;
  });
  REQUIRE(updated.ok());
  CHECK(calls == 2);
  CHECK(ResourceVersion(**updated) == "3");
}

TEST_CASE("kube: an informer lists, watches, relists on 410 Gone and reports deletions it missed") {
  testing::FakeHttpServer server;
  auto client = ClientFor(server);
  server.Script({
      Answer(200, ListOf("10", {ConfigMap("a", "5"), ConfigMap("b", "6")})),
      Answer(200, Event("ADDED", ConfigMap("c", "11")) + Event("DELETED", ConfigMap("a", "12")) +
                      Event("BOOKMARK", R"({"metadata":{"resourceVersion":"13"}})")),
      Answer(200, Event("ERROR", R"({"kind":"Status","code":410,"reason":"Expired"})")),
      // While nobody watched, b went away and d came.
      Answer(200, ListOf("20", {ConfigMap("c", "11"), ConfigMap("d", "19")})),
      Answer(200, "this is not json\n"),
      Answer(200, ListOf("30", {ConfigMap("d", "19")})),
  });
  std::mutex mu;
  std::vector<std::string> seen;
  auto record = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(what);
  };
  std::vector<std::string> logged;
  Informer informer(client.get(), resources::kConfigMaps, "ns", {}, [&](const std::string& l) {
    std::lock_guard<std::mutex> lock(mu);
    logged.push_back(l);
  });
  InformerHandlers h;
  h.on_add = [&](const ObjectPtr& o) { record("add " + Name(*o)); };
  h.on_update = [&](const ObjectPtr&, const ObjectPtr& o) { record("update " + Name(*o)); };
  h.on_delete = [&](const ObjectPtr& o) { record("delete " + Name(*o)); };
  informer.AddHandlers(h);
  informer.Start();
  REQUIRE(informer.WaitForSync(5s));
  bool done = Eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return std::find(seen.begin(), seen.end(), "delete c") != seen.end();
  }, 10000ms);
  if (!done) {
    for (const auto& s : seen) WARN("seen " << s);
    for (const auto& l : logged) WARN("logged " << l);
  }
  REQUIRE(done);
  informer.Stop();
  std::vector<std::string> expected = {"add a", "add b", "add c", "delete a", "add d", "delete b", "delete c"};
  CHECK(seen == expected);
  CHECK(informer.List("ns").size() == 1);
  CHECK(informer.ByLabel("app", "d").size() == 1);
  CHECK(informer.Get("ns", "d") != nullptr);
  auto requests = server.requests();
  REQUIRE(requests.size() >= 5);
  CHECK(requests[1].target.find("watch=1") != std::string::npos);
  CHECK(requests[1].target.find("resourceVersion=10") != std::string::npos);
  CHECK(requests[1].target.find("allowWatchBookmarks=true") != std::string::npos);
  CHECK(requests[2].target.find("resourceVersion=13") != std::string::npos);  // the bookmark moved it on
  bool parse_failure_logged = false;
  for (const auto& l : logged) parse_failure_logged |= l.find("not a JSON object") != std::string::npos;
  CHECK(parse_failure_logged);
}

TEST_CASE("kube: exec credential plugins as kubectl runs them") {
  auto dir = std::filesystem::temp_directory_path() / ("stash-exec-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string plugin = (dir / "plugin.sh").string();
  REQUIRE(WriteTextFile(plugin,
                        "#!/bin/sh\n"
                        "case \"$KUBERNETES_EXEC_INFO\" in *ExecCredential*) ;; *) exit 3;; esac\n"
                        "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
                        "\"status\":{\"token\":\"'\"$1-$GREETING\"'\",\"expirationTimestamp\":\"2099-01-01T00:00:00Z\"}}'\n",
                        0755).ok());
  ExecConfig exec;
  exec.command = plugin;
  exec.args = {"tok"};
  exec.env = {{"GREETING", "hi"}};
  exec.api_version = "client.authentication.k8s.io/v1";
  auto c = RunExecPlugin(exec);
  REQUIRE(c.ok());
  CHECK(c->token == "tok-hi");
  ClusterAccess access;
  access.exec = exec;
  Credentials credentials(access);
  CHECK(*credentials.Token() == "tok-hi");

  SECTION("failures name the plugin") {
    exec.command = (dir / "missing").string();
    exec.install_hint = "install it";
    auto missing = RunExecPlugin(exec);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message().find("install it") != std::string::npos);
    CHECK_FALSE(ParseExecCredential(R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{}})",
                                    "client.authentication.k8s.io/v1").ok());
    CHECK_FALSE(ParseExecCredential("nonsense", "client.authentication.k8s.io/v1").ok());
    // A far-future expiry (found by the fuzzer: it overflowed) is "not soon".
    auto far = ParseExecCredential(R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1",)"
                                   R"("status":{"token":"t","expirationTimestamp":"3026-12-03T18:25:00+01:00"}})",
                                   "client.authentication.k8s.io/v1");
    REQUIRE(far.ok());
    CHECK(far->expires > std::chrono::system_clock::now() + std::chrono::hours(24 * 365 * 100));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("kube: kubeconfig contexts, namespaces and KUBECONFIG lists") {
  auto dir = std::filesystem::temp_directory_path() / ("stash-kc-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string file = (dir / "config").string();
  REQUIRE(WriteTextFile(file,
                        "apiVersion: v1\nkind: Config\ncurrent-context: a\n"
                        "clusters:\n- {name: one, cluster: {server: 'https://one:6443'}}\n"
                        "- {name: two, cluster: {server: 'https://two:6443'}}\n"
                        "users:\n- {name: u, user: {token: secret, tokenFile: tok}}\n"
                        "contexts:\n- {name: a, context: {cluster: one, user: u, namespace: team}}\n"
                        "- {name: b, context: {cluster: two, user: u}}\n",
                        0600).ok());
  auto a = LoadKubeconfig(file);
  REQUIRE(a.ok());
  CHECK(a->server == "https://one:6443");
  CHECK(a->ns == "team");
  CHECK(a->token_file == (dir / "tok").string());
  auto b = LoadKubeconfig(file, "b");
  REQUIRE(b.ok());
  CHECK(b->server == "https://two:6443");
  CHECK_FALSE(LoadKubeconfig(file, "nope").ok());
  setenv("KUBECONFIG", ((dir / "absent").string() + ":" + file).c_str(), 1);
  auto resolved = ResolveAccess("");
  unsetenv("KUBECONFIG");
  REQUIRE(resolved.ok());
  CHECK(resolved->server == "https://one:6443");
  auto missing = ResolveAccess((dir / "absent").string());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message().find("absent") != std::string::npos);
  std::filesystem::remove_all(dir);
}
