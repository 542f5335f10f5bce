// Delegated auth pieces that need no HTTPS server of our own: the token
// cache, kubeconfigs and the review client over TLS, in-cluster access,
// which chain each mode builds, and the cluster's authentication ConfigMap.
#include <catch2/catch.hpp>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "apiserver/auth_setup.h"
#include "apiserver/auth/delegated_auth.h"
#include "apiserver/machinery/server_types.h"
#include "apiserver/auth/kube_review.h"
#include "crypto/encoding.h"
#include "test/unit/auth_test_util.h"
#include "test/unit/fake_http_server.h"

using namespace stash;
using namespace stash::apiserver;
using namespace stash::apiserver::auth_test;

namespace {

struct FakeTokenReviewer : TokenReviewer {
  std::atomic<int> calls{0};
  Result<TokenReviewResult> Review(const std::string& token) override {
    ++calls;
    if (token == "broken") return IOError("connection refused");
    TokenReviewResult r;
    r.authenticated = token == "good";
    if (r.authenticated) r.user = UserInfo{"carol", "uid-1", {"readers"}, {}};
    return r;
  }
};

}  // namespace

TEST_CASE("auth: token review cache without a server; malformed Authorization headers") {
  FakeTokenReviewer reviewer;
  FakeClock clock;
  TokenReviewAuthenticator a(&reviewer, std::chrono::seconds(10), nullptr, clock.fn());
  auto with = [](const std::string& auth) {
    Request r;
    r.headers.Add("Authorization", auth);
    return r;
  };
  CHECK_FALSE(*a.Authenticate(Request{}));            // no credentials: the next authenticator's turn
  CHECK_FALSE(*a.Authenticate(with("Basic abc")));     // not a bearer token
  CHECK_FALSE(*a.Authenticate(with("Bearer    ")));    // empty
  CHECK(reviewer.calls == 0);
  auto good = a.Authenticate(with("Bearer good"));
  REQUIRE(good.ok());
  CHECK((*good)->name == "carol");
  CHECK(a.Authenticate(with("Bearer bad")).error().kind() == ErrorKind::kAuth);
  CHECK(a.Authenticate(with("Bearer broken")).error().kind() == ErrorKind::kAuth);
  CHECK(a.Authenticate(with("Bearer broken")).ok() == false);
  CHECK(reviewer.calls == 4);  // good and bad cached, broken asked twice
  CHECK(a.Authenticate(with("Bearer good")).ok());
  CHECK(reviewer.calls == 4);
}

TEST_CASE("auth: the review client uses a kubeconfig's CA and client certificate over TLS") {
  // The "cluster API server" is the HTTPS server itself: it answers the
  // TokenReview with the user its client certificate authenticated as.
  const Pki& pki = TestPki();
  auto tls = MakeServerContext(TlsConfig{pki.serving, {pki.client_ca.cert_pem}, {}});
  REQUIRE(tls.ok());
  ServerOptions net;
  net.bind_address = "127.0.0.1";
  net.port = 0;
  HttpServer kube(net, *tls, [](Request q, std::shared_ptr<Responder> w) {
    Response r;
    r.status = 201;
    std::string user = q.client_cert.verified ? q.client_cert.common_name : "nobody";
    r.body = R"({"kind":"TokenReview","status":{"authenticated":true,"user":{"username":")" + user + "\"}}}";
    w->Send(std::move(r));
  });
  auto port = kube.Listen();
  REQUIRE(port.ok());
  kube.Start();

  auto dir = std::filesystem::temp_directory_path() / ("stash-auth-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  REQUIRE(WriteTextFile((dir / "ca.crt").string(), pki.serving_ca.cert_pem, 0600).ok());
  std::string kubeconfig =
      "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
      "clusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:" + std::to_string(*port) +
      "\n    certificate-authority: ca.crt\n"
      "users:\n- name: u\n  user:\n    client-certificate-data: " + Base64Encode(AsBytes(pki.bob.cert_pem)) +
      "\n    client-key-data: " + Base64Encode(AsBytes(pki.bob.key_pem)) +
      "\ncontexts:\n- name: other\n  context: {cluster: nope, user: nope}\n"
      "- name: c\n  context: {cluster: k, user: u}\n";
  REQUIRE(WriteTextFile((dir / "kubeconfig").string(), kubeconfig, 0600).ok());

  auto access = kube::LoadKubeconfig((dir / "kubeconfig").string());
  REQUIRE(access.ok());
  CHECK(access->ca_pem == pki.serving_ca.cert_pem);
  auto client = kube::Client::Create(*access);
  REQUIRE(client.ok());
  WebhookTokenReviewer reviewer(client->get());
  auto review = reviewer.Review("t");
  REQUIRE(review.ok());
  CHECK(review->authenticated);
  CHECK(review->user.name == "bob");

  SECTION("a server the CA does not vouch for is refused") {
    kube::ClusterAccess wrong = *access;
    wrong.ca_pem = pki.client_ca.cert_pem;
    auto c = kube::Client::Create(wrong);
    REQUIRE(c.ok());
    CHECK_FALSE(WebhookTokenReviewer(c->get()).Review("t").ok());
  }
  SECTION("kubeconfigs that cannot work are refused with a reason") {
    REQUIRE(WriteTextFile((dir / "bad").string(), "current-context: x\ncontexts: []\n", 0600).ok());
    auto bad = kube::LoadKubeconfig((dir / "bad").string());
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message().find("no context \"x\"") != std::string::npos);
    REQUIRE(WriteTextFile((dir / "exec").string(),
                          "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n"
                          "clusters: [{name: k, cluster: {server: 'https://x'}}]\n"
                          "users: [{name: u, user: {exec: {command: aws}}}]\n",
                          0600)
                .ok());
    auto exec = kube::LoadKubeconfig((dir / "exec").string());
    REQUIRE(exec.ok());
    REQUIRE(exec->exec);
    CHECK(exec->exec->command == "aws");
    REQUIRE(WriteTextFile((dir / "yaml").string(), "a: [\n", 0600).ok());
    CHECK_FALSE(kube::LoadKubeconfig((dir / "yaml").string()).ok());
  }
  kube.Stop();
  std::filesystem::remove_all(dir);
}

TEST_CASE("auth: in-cluster access from the service account, and which chain each mode builds") {
  auto dir = std::filesystem::temp_directory_path() / ("stash-sa-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  unsetenv("KUBERNETES_SERVICE_HOST");
  CHECK_FALSE(kube::InClusterAccess(dir.string()));
  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
  CHECK_FALSE(kube::InClusterAccess(dir.string()));  // no token: not a pod
  REQUIRE(WriteTextFile((dir / "token").string(), "sa-token\n", 0600).ok());
  REQUIRE(WriteTextFile((dir / "ca.crt").string(), TestPki().serving_ca.cert_pem, 0600).ok());
  auto in_cluster = kube::InClusterAccess(dir.string());
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  REQUIRE(in_cluster);
  CHECK(in_cluster->server == "https://[fd00::1]:6443");
  CHECK(in_cluster->token_file == (dir / "token").string());
  CHECK(in_cluster->ca_pem == TestPki().serving_ca.cert_pem);

  Options o;
  std::vector<std::string> logs;
  auto log = [&logs](const std::string& line) { logs.push_back(line); };
  // Standalone ignores the pod: today's policy, no reviews.
  auto standalone = BuildAuth(o, {}, true, in_cluster, log);
  REQUIRE(standalone.ok());
  CHECK((*standalone)->clients.empty());
  CHECK(dynamic_cast<StandaloneAuthorizer*>((*standalone)->authorizer.get()) != nullptr);
  CHECK(logs.empty());
  // In a cluster: both reviews go to the service account's API server.
  auto cluster = BuildAuth(o, {}, false, in_cluster, log);
  REQUIRE(cluster.ok());
  CHECK((*cluster)->clients.size() == 2);
  CHECK((*cluster)->token_reviewer != nullptr);
  CHECK((*cluster)->access_reviewer != nullptr);
  // Outside one, without kubeconfigs: said in the log, and nothing but the
  // always-allowed paths is authorized.
  logs.clear();
  auto bare = BuildAuth(o, {}, false, std::nullopt, log);
  REQUIRE(bare.ok());
  CHECK(logs.size() == 3);
  Attributes a;
  a.user.name = "x";
  a.verb = "get";
  a.path = "/apis";
  CHECK_FALSE((*bare)->authorizer->Authorize(a)->allowed);
  a.path = "/livez";
  CHECK((*bare)->authorizer->Authorize(a)->allowed);
  o.authentication_kubeconfig = (dir / "missing").string();
  CHECK_FALSE(BuildAuth(o, {}, false, in_cluster, log).ok());
  std::filesystem::remove_all(dir);
}

TEST_CASE("auth: always-allow path patterns") {
  CHECK(PathMatches({"/healthz", "/readyz"}, "/healthz"));
  CHECK_FALSE(PathMatches({"/healthz"}, "/healthz/ping"));
  CHECK(PathMatches({"/healthz*"}, "/healthz/ping"));
  CHECK_FALSE(PathMatches({}, "/healthz"));
  CHECK_FALSE(PathMatches({"/metrics"}, "/metricsx"));
}

TEST_CASE("auth: in a cluster the front-proxy settings come from extension-apiserver-authentication") {
  testing::FakeHttpServer kube;
  const Pki& pki = TestPki();
  std::string fp = pki.front_proxy_ca.cert_pem, client = pki.client_ca.cert_pem;
  auto escape = [](const std::string& pem) {  // a JSON string's inside
    std::string out;
    for (char c : pem) out += c == '\n' ? std::string("\\n") : std::string(1, c);
    return out;
  };
  kube.Script({Reply(200,
                R"({"kind":"ConfigMap","apiVersion":"v1","data":{"client-ca-file":")" + escape(client) +
                    R"(","requestheader-client-ca-file":")" + escape(fp) +
                    R"(","requestheader-allowed-names":"[\"front-proxy-client\"]",)"
                    R"("requestheader-username-headers":"[\"X-Remote-User\"]",)"
                    R"("requestheader-group-headers":"[\"X-Remote-Group\",\"X-Other-Group\"]",)"
                    R"("requestheader-extra-headers-prefix":"[\"X-Remote-Extra-\"]"}})")});
  kube::ClusterAccess in_cluster;
  in_cluster.server = "http://127.0.0.1:" + std::to_string(kube.port());
  in_cluster.token = "sa";
  Options o;
  o.requestheader.allowed_names = {"ignored"};
  auto cas = ResolveClientCas(o, false, in_cluster, nullptr);
  REQUIRE(cas.ok());
  REQUIRE(kube.requests().size() == 1);
  CHECK(kube.requests()[0].method == "GET");
  CHECK(kube.requests()[0].target == "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication");
  CHECK(cas->requestheader_ca_pems == Groups{fp});
  CHECK(cas->client_ca_pems == Groups{client});
  CHECK(cas->requestheader.allowed_names == Groups{"front-proxy-client"});
  CHECK(cas->requestheader.group_headers == Groups{"X-Remote-Group", "X-Other-Group"});

  SECTION("standalone mode does not ask, and a failed read is fatal in a cluster") {
    CHECK(ResolveClientCas(o, true, in_cluster, nullptr)->requestheader_ca_pems.empty());
    CHECK(kube.requests().size() == 1);
    kube.Script({Reply(403, R"({"kind":"Status","message":"configmaps is forbidden"})")});
    auto failed = ResolveClientCas(o, false, in_cluster, nullptr);
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.error().message().find("configmaps is forbidden") != std::string::npos);
  }
}
