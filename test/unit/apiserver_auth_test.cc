// Delegated authentication and authorization, end to end over real TLS:
// certificates made here (a front-proxy CA, a client CA, certificates of
// each), the real HTTPS server and router, and fake TokenReview and
// SubjectAccessReview endpoints (FakeHttpServer).
#include <catch2/catch.hpp>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <rapidjson/document.h>

#include <mutex>

#include "apiserver/auth/delegated_auth.h"
#include "apiserver/machinery/health.h"
#include "apiserver/machinery/server_types.h"
#include "apiserver/auth/kube_review.h"
#include "base/metrics.h"
#include "apiserver/router.h"
#include "net/http_client.h"
#include "test/unit/auth_test_util.h"
#include "test/unit/fake_http_server.h"

using namespace stash;
using namespace stash::apiserver;
using namespace stash::apiserver::auth_test;

namespace {

const char kSnapshots[] = "/apis/repositories.stash.appscode.com/v1alpha1/namespaces/demo/snapshots";

// A SubjectAccessReviewer that remembers what it was asked and allows
// what `allow` says.
struct FakeAccessReviewer : SubjectAccessReviewer {
  std::mutex mu;
  std::vector<Attributes> asked;
  std::function<Decision(const Attributes&)> allow = [](const Attributes&) { return Decision{true, ""}; };
  Result<Decision> Review(const Attributes& a) override {
    std::lock_guard<std::mutex> lock(mu);
    asked.push_back(a);
    return allow(a);
  }
  Attributes last() {
    std::lock_guard<std::mutex> lock(mu);
    REQUIRE_FALSE(asked.empty());
    return asked.back();
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mu);
    return asked.size();
  }
};

// The real HTTPS server and router with the given authenticators.
struct Server {
  HealthChecks health;
  Metrics metrics;
  std::unique_ptr<Authenticator> authn;
  std::unique_ptr<Authorizer> authz;
  std::unique_ptr<Router> router;
  std::unique_ptr<HttpServer> http;
  int port = 0;

  Server(std::unique_ptr<Authenticator> a, std::unique_ptr<Authorizer> z) : authn(std::move(a)), authz(std::move(z)) {
    health.Add("ping", [] { return true; });
    Router::DeclareMetrics(metrics);
    const Pki& pki = TestPki();
    RouterParts parts;
    parts.health = &health;
    parts.authenticator = authn.get();
    parts.authorizer = authz.get();
    parts.metrics = &metrics;
    router = std::make_unique<Router>(std::move(parts));
    auto tls = MakeServerContext(TlsConfig{pki.serving, {pki.client_ca.cert_pem}, {pki.front_proxy_ca.cert_pem}});
    REQUIRE(tls.ok());
    ServerOptions net;
    net.bind_address = "127.0.0.1";
    net.port = 0;
    Router* r = router.get();
    http = std::make_unique<HttpServer>(net, *tls, [r](Request q, std::shared_ptr<Responder> w) {
      r->Handle(std::move(q), std::move(w));
    });
    auto p = http->Listen();
    REQUIRE(p.ok());
    port = *p;
    http->Start();
  }
  ~Server() { http->Stop(); }
};

// The standard chain: front-proxy headers (allowed name front-proxy-client),
// client certificates, and (when given) bearer tokens.
std::unique_ptr<Authenticator> Chain(TokenReviewAuthenticator* tokens = nullptr,
                                     std::vector<std::string> anonymous_paths = {}) {
  std::vector<std::unique_ptr<Authenticator>> chain;
  RequestHeaderConfig rh;
  rh.allowed_names = {"front-proxy-client"};
  chain.push_back(std::make_unique<RequestHeaderAuthenticator>(rh));
  chain.push_back(std::make_unique<ClientCertAuthenticator>());
  if (tokens) chain.emplace_back(tokens);
  chain.push_back(std::make_unique<AnonymousPathAuthenticator>(std::move(anonymous_paths)));
  return std::make_unique<UnionAuthenticator>(std::move(chain));
}

struct Answer {
  int status = 0;
  std::string body;
};

// GET `path` on the test server as `cert` (none when null) with `headers`.
Answer Get(int port, const std::string& path, const CertificateAndKey* cert, http::Headers headers = {}) {
  http::HttpOptions o;
  o.ca_pem = TestPki().serving_ca.cert_pem;
  if (cert) o.client_cert_pem = cert->cert_pem, o.client_key_pem = cert->key_pem;
  o.retry.max_attempts = 1;
  auto url = http::ParseUrl("https://127.0.0.1:" + std::to_string(port));
  REQUIRE(url.ok());
  auto client = http::HttpClient::Create("test", *url, o);
  REQUIRE(client.ok());
  http::HttpRequest r;
  r.target = path;
  r.headers = std::move(headers);
  auto response = (*client)->Do(r);
  REQUIRE(response.ok());
  return {response->status, std::string(response->body.begin(), response->body.end())};
}

// GET `path` over a raw TLS connection with header lines as given (the
// HTTP client above sends one value per header name; the aggregator repeats
// X-Remote-Group). Returns the status code.
int RawGet(int port, const std::string& path, const CertificateAndKey& cert, const std::string& header_lines) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  REQUIRE(ctx);
  BIO* cert_bio = BIO_new_mem_buf(cert.cert_pem.data(), static_cast<int>(cert.cert_pem.size()));
  X509* x = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
  BIO* key_bio = BIO_new_mem_buf(cert.key_pem.data(), static_cast<int>(cert.key_pem.size()));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
  REQUIRE((x && k));
  SSL_CTX_use_certificate(ctx, x);
  SSL_CTX_use_PrivateKey(ctx, k);
  X509_free(x);
  EVP_PKEY_free(k);
  BIO_free(cert_bio);
  BIO_free(key_bio);
  BIO* conn = BIO_new_ssl_connect(ctx);
  BIO_set_conn_hostname(conn, ("127.0.0.1:" + std::to_string(port)).c_str());
  REQUIRE(BIO_do_connect(conn) == 1);
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + header_lines + "\r\n";
  REQUIRE(BIO_write(conn, request.data(), static_cast<int>(request.size())) == static_cast<int>(request.size()));
  std::string response;
  char buf[4096];
  int n;
  while ((n = BIO_read(conn, buf, sizeof buf)) > 0) response.append(buf, static_cast<size_t>(n));
  BIO_free_all(conn);
  SSL_CTX_free(ctx);
  REQUIRE(response.size() > 12);
  return std::stoi(response.substr(9, 3));
}

rapidjson::Document Json(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

std::string MessageOf(const std::string& status_json) {
  auto d = Json(status_json);
  REQUIRE(d.HasMember("message"));
  return d["message"].GetString();
}

}  // namespace

TEST_CASE("auth: front-proxy headers count only with a front-proxy certificate of an allowed name") {
  auto reviewer = std::make_unique<FakeAccessReviewer>();
  FakeAccessReviewer& seen = *reviewer;
  SubjectAccessReviewOptions sar;
  sar.authorized_ttl = sar.unauthorized_ttl = std::chrono::milliseconds(0);
  Server s(Chain(), std::make_unique<SubjectAccessReviewAuthorizer>(&seen, sar));
  const Pki& pki = TestPki();
  http::Headers proxied = {{"X-Remote-User", "alice"},
                           {"X-Remote-Group", "team-a"},
                           {"X-Remote-Group", "team-b"},
                           {"X-Remote-Extra-Scopes", "view"},
                           {"X-Remote-Extra-Scopes", "edit"},
                           {"X-Remote-Extra-Authentication.kubernetes.io%2fPod-Name", "pod-1"}};

  SECTION("the aggregator's certificate: user, groups and extra from the headers") {
    std::string lines;
    for (const auto& [name, value] : proxied) lines += name + ": " + value + "\r\n";
    CHECK(RawGet(s.port, kSnapshots, pki.front_proxy, lines) == 404);  // allowed, nothing served
    Attributes a = seen.last();
    CHECK(a.user.name == "alice");
    CHECK(a.user.groups == Groups{"team-a", "team-b", "system:authenticated"});
    CHECK(a.user.extra["scopes"] == Groups{"view", "edit"});
    CHECK(a.user.extra["authentication.kubernetes.io/pod-name"] == Groups{"pod-1"});
    CHECK(a.verb == "list");
    CHECK(a.ns == "demo");
    CHECK(a.resource == "snapshots");
  }
  SECTION("the first non-empty username header wins, with custom header names") {
    std::vector<std::unique_ptr<Authenticator>> chain;
    RequestHeaderConfig rh;
    rh.username_headers = {"X-User-A", "X-User-B"};
    chain.push_back(std::make_unique<RequestHeaderAuthenticator>(rh));  // any name of the CA
    Server custom(std::make_unique<UnionAuthenticator>(std::move(chain)),
                  std::make_unique<SubjectAccessReviewAuthorizer>(&seen, sar));
    CHECK(Get(custom.port, "/apis", &pki.rogue_proxy, {{"X-User-A", ""}, {"X-User-B", "dave"}}).status == 200);
    CHECK(seen.last().user.name == "dave");
    // Any name of the front-proxy CA, but a client CA certificate is not one.
    CHECK(Get(custom.port, "/apis", &pki.bob, {{"X-User-B", "dave"}}).status == 401);
    CHECK(Get(custom.port, "/apis", &pki.stranger, {{"X-User-B", "dave"}}).status == 401);
    CHECK(seen.count() == 1);
  }
  SECTION("a front-proxy certificate whose name is not allowed: 401") {
    auto a = Get(s.port, kSnapshots, &pki.rogue_proxy, proxied);
    CHECK(a.status == 401);
    CHECK(seen.count() == 0);
  }
  SECTION("a client CA certificate cannot spoof headers: the user is its CN") {
    CHECK(Get(s.port, kSnapshots, &pki.bob, proxied).status == 404);
    Attributes a = seen.last();
    CHECK(a.user.name == "bob");
    CHECK(a.user.groups == Groups{"dev", "ops", "system:authenticated"});
    CHECK(a.user.extra.empty());
  }
  SECTION("a front-proxy certificate without a username header is not a client certificate") {
    CHECK(Get(s.port, kSnapshots, &pki.front_proxy).status == 401);
    CHECK(seen.count() == 0);
  }
  SECTION("a certificate of an unknown CA, with headers: 401") {
    CHECK(Get(s.port, kSnapshots, &pki.stranger, proxied).status == 401);
  }
  SECTION("anonymous: 401 Status, but health endpoints answer") {
    auto a = Get(s.port, "/apis", nullptr, {{"X-Remote-User", "alice"}});
    CHECK(a.status == 401);
    CHECK(MessageOf(a.body) == "Unauthorized");
    CHECK(Get(s.port, "/healthz", nullptr).status == 200);
    CHECK(Get(s.port, "/readyz", nullptr).status == 200);
    CHECK(Get(s.port, "/livez", nullptr).status == 200);
    CHECK(seen.count() == 0);
  }
}

TEST_CASE("auth: bearer tokens through TokenReview, cached for the TTL") {
  testing::FakeHttpServer kube;
  auto review = [](bool ok) {
    std::string status = ok ? R"({"authenticated":true,"user":{"username":"carol","uid":"u-1",)"
                              R"("groups":["readers"],"extra":{"scopes":["a","b"]}}})"
                            : R"({"authenticated":false,"error":"token expired"})";
    return Reply(201, R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","status":)" + status + "}");
  };
  kube::ClusterAccess access;
  access.server = "http://127.0.0.1:" + std::to_string(kube.port());
  access.token = "service-account-token";
  auto client = kube::Client::Create(access);
  REQUIRE(client.ok());
  WebhookTokenReviewer reviewer(client->get());
  FakeClock clock;
  std::vector<std::string> logged;
  std::mutex log_mu;
  auto* tokens = new TokenReviewAuthenticator(
      &reviewer, std::chrono::seconds(10),
      [&](const std::string& line) {
        std::lock_guard<std::mutex> lock(log_mu);
        logged.push_back(line);
      },
      clock.fn());
  auto access_reviewer = std::make_unique<FakeAccessReviewer>();
  Server s(Chain(tokens), std::make_unique<SubjectAccessReviewAuthorizer>(access_reviewer.get(),
                                                                            SubjectAccessReviewOptions{}));

  kube.Script({review(true), review(false)});
  CHECK(Get(s.port, "/apis", nullptr, {{"Authorization", "Bearer tok-1"}}).status == 200);
  Attributes a = access_reviewer->last();
  CHECK(a.user.name == "carol");
  CHECK(a.user.uid == "u-1");
  CHECK(a.user.groups == Groups{"readers", "system:authenticated"});
  CHECK(a.user.extra["scopes"] == Groups{"a", "b"});
  auto seen = kube.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].method == "POST");
  CHECK(seen[0].target == "/apis/authentication.k8s.io/v1/tokenreviews");
  CHECK(seen[0].headers.find("Authorization: Bearer service-account-token") != std::string::npos);
  auto body = Json(seen[0].body);
  CHECK(std::string(body["apiVersion"].GetString()) == "authentication.k8s.io/v1");
  CHECK(std::string(body["kind"].GetString()) == "TokenReview");
  CHECK(std::string(body["spec"]["token"].GetString()) == "tok-1");

  SECTION("within the TTL the review is not asked again") {
    clock.Advance(std::chrono::seconds(9));
    CHECK(Get(s.port, "/apis", nullptr, {{"Authorization", "Bearer tok-1"}}).status == 200);
    CHECK(kube.requests().size() == 1);
    SECTION("after it, it is; a token no longer authenticated gets 401, and that is cached too") {
      clock.Advance(std::chrono::seconds(2));
      CHECK(Get(s.port, "/apis", nullptr, {{"Authorization", "Bearer tok-1"}}).status == 401);
      CHECK(kube.requests().size() == 2);
      CHECK(Get(s.port, "/apis", nullptr, {{"Authorization", "Bearer tok-1"}}).status == 401);
      CHECK(kube.requests().size() == 2);
    }
  }
  SECTION("another token is reviewed on its own") {
    CHECK(Get(s.port, "/apis", nullptr, {{"Authorization", "bearer tok-2"}}).status == 401);
    REQUIRE(kube.requests().size() == 2);
    CHECK(std::string(Json(kube.requests()[1].body)["spec"]["token"].GetString()) == "tok-2");
  }
  SECTION("an API server that fails: 401, logged, not cached") {
    kube.Script({Reply(403, R"({"kind":"Status","message":"tokenreviews is forbidden"})"),
                 review(true)});
    CHECK(Get(s.port, "/apis", nullptr, {{"Authorization", "Bearer tok-3"}}).status == 401);
    {
      std::lock_guard<std::mutex> lock(log_mu);
      REQUIRE(logged.size() == 1);
      CHECK(logged[0].find("tokenreviews is forbidden") != std::string::npos);
    }
    CHECK(Get(s.port, "/apis", nullptr, {{"Authorization", "Bearer tok-3"}}).status == 200);
  }
}

TEST_CASE("auth: SubjectAccessReview decides, decisions are cached, denials are Forbidden Statuses") {
  testing::FakeHttpServer kube;
  auto sar = [](bool allowed, const std::string& reason) {
    return Reply(201,
        std::string(R"({"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","status":{"allowed":)") +
            (allowed ? "true" : "false") + R"(,"reason":")" + reason + "\"}}");
  };
  kube::ClusterAccess access;
  access.server = "http://127.0.0.1:" + std::to_string(kube.port()) + "/prefix/";
  auto client = kube::Client::Create(access);
  REQUIRE(client.ok());
  WebhookSubjectAccessReviewer reviewer(client->get());
  FakeClock clock;
  SubjectAccessReviewOptions options;
  options.authorized_ttl = std::chrono::seconds(5);
  options.unauthorized_ttl = std::chrono::seconds(20);
  options.always_allow_paths = {"/healthz", "/metrics*"};
  Server s(Chain(nullptr, options.always_allow_paths),
           std::make_unique<SubjectAccessReviewAuthorizer>(&reviewer, options, clock.fn()));
  const Pki& pki = TestPki();
  http::Headers alice = {{"X-Remote-User", "alice"}, {"X-Remote-Group", "dev"}, {"X-Remote-Extra-Scopes", "x"}};

  kube.Script({sar(true, ""), sar(false, "no RBAC policy matched")});
  CHECK(Get(s.port, kSnapshots, &pki.front_proxy, alice).status == 404);  // allowed; no resource here
  auto seen = kube.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].target == "/prefix/apis/authorization.k8s.io/v1/subjectaccessreviews");
  auto body = Json(seen[0].body);
  CHECK(std::string(body["kind"].GetString()) == "SubjectAccessReview");
  const auto& spec = body["spec"];
  CHECK(std::string(spec["user"].GetString()) == "alice");
  REQUIRE(spec["groups"].Size() == 2);
  CHECK(std::string(spec["groups"][1].GetString()) == "system:authenticated");
  CHECK(std::string(spec["extra"]["scopes"][0].GetString()) == "x");
  const auto& ra = spec["resourceAttributes"];
  CHECK(std::string(ra["namespace"].GetString()) == "demo");
  CHECK(std::string(ra["verb"].GetString()) == "list");
  CHECK(std::string(ra["group"].GetString()) == "repositories.stash.appscode.com");
  CHECK(std::string(ra["version"].GetString()) == "v1alpha1");
  CHECK(std::string(ra["resource"].GetString()) == "snapshots");
  CHECK_FALSE(ra.HasMember("name"));  // empty fields are left out
  CHECK_FALSE(spec.HasMember("nonResourceAttributes"));

  // Cached: the same request is not asked again within the allowed TTL.
  CHECK(Get(s.port, kSnapshots, &pki.front_proxy, alice).status == 404);
  CHECK(kube.requests().size() == 1);

  // Another verb is another key: denied, with the reason in the message.
  auto denied = Get(s.port, std::string(kSnapshots) + "/snap-1", &pki.front_proxy, alice);
  CHECK(denied.status == 403);
  CHECK(MessageOf(denied.body) ==
        "snapshots.repositories.stash.appscode.com \"snap-1\" is forbidden: User \"alice\" cannot get resource "
        "\"snapshots\" in API group \"repositories.stash.appscode.com\" in the namespace \"demo\": "
        "no RBAC policy matched");
  CHECK(kube.requests().size() == 2);

  SECTION("the allowed TTL is shorter than the denied one") {
    clock.Advance(std::chrono::seconds(6));
    kube.Script({sar(true, ""), sar(true, "")});
    CHECK(Get(s.port, std::string(kSnapshots) + "/snap-1", &pki.front_proxy, alice).status == 403);
    CHECK(Get(s.port, kSnapshots, &pki.front_proxy, alice).status == 404);
    CHECK(kube.requests().size() == 3);
    clock.Advance(std::chrono::seconds(15));
    CHECK(Get(s.port, std::string(kSnapshots) + "/snap-1", &pki.front_proxy, alice).status == 404);
    CHECK(kube.requests().size() == 4);
  }
  SECTION("another user is another key; non-resource paths send nonResourceAttributes") {
    kube.Script({sar(false, "")});
    http::Headers eve = {{"X-Remote-User", "eve"}};
    auto a = Get(s.port, "/version", &pki.front_proxy, eve);
    CHECK(a.status == 403);
    CHECK(MessageOf(a.body) == "forbidden: User \"eve\" cannot get path \"/version\"");
    REQUIRE(kube.requests().size() == 3);
    auto b = Json(kube.requests()[2].body);
    CHECK(std::string(b["spec"]["nonResourceAttributes"]["path"].GetString()) == "/version");
    CHECK(std::string(b["spec"]["nonResourceAttributes"]["verb"].GetString()) == "get");
  }
  SECTION("system:masters and always-allowed paths are never asked about; anonymous may use those paths") {
    http::Headers admin = {{"X-Remote-User", "system:kube-aggregator"}, {"X-Remote-Group", "system:masters"}};
    CHECK(Get(s.port, kSnapshots, &pki.front_proxy, admin).status == 404);
    CHECK(Get(s.port, "/metrics", nullptr).status == 200);
    CHECK(Get(s.port, "/apis", nullptr).status == 401);
    CHECK(kube.requests().size() == 2);
  }
  SECTION("a review that fails is a 500, not an allow, and is not cached") {
    kube.Script({Reply(400, R"({"kind":"Status","message":"bad review"})")});
    auto a = Get(s.port, "/apis", &pki.front_proxy, alice);
    CHECK(a.status == 500);
    CHECK(MessageOf(a.body).find("bad review") != std::string::npos);
    kube.Script({sar(true, "")});
    CHECK(Get(s.port, "/apis", &pki.front_proxy, alice).status == 200);
  }
}
