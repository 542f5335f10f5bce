// Reviews off the network threads: the pool's non-blocking TrySubmit, the
// Try forms of the authenticators and authorizers (answers that need no
// review), reviews of one key made once, and the router over real TLS with
// a TokenReview that hangs: health, client certificates and cached tokens
// are answered meanwhile, and a full auth queue is answered 429.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "apiserver/auth/delegated_auth.h"
#include "apiserver/auth/single_flight.h"
#include "apiserver/machinery/health.h"
#include "apiserver/router.h"
#include "base/thread_pool.h"
#include "net/http_client.h"
#include "test/unit/auth_test_util.h"

using namespace stash;
using namespace stash::apiserver;
using namespace stash::apiserver::auth_test;
using Clock = std::chrono::steady_clock;

namespace {

// Held jobs and calls wait on a Gate until the test opens it.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  int waiting = 0;

  void Pass() {
    std::unique_lock<std::mutex> lock(mu);
    ++waiting;
    cv.notify_all();
    cv.wait(lock, [this] { return open; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    cv.notify_all();
  }
  // True once `n` callers are held (waits up to 10 s).
  bool Holds(int n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return waiting >= n; });
  }
};

// Waits up to 10 s for `condition`.
template <class F>
bool Eventually(F condition) {
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Answers the token "good" (user alice) at once; every other token is
// refused, once the gate opens.
struct GatedTokenReviewer : TokenReviewer {
  Gate gate;
  std::atomic<int> calls{0};
  Result<TokenReviewResult> Review(const std::string& token) override {
    ++calls;
    TokenReviewResult r;
    if (token == "good") {
      r.authenticated = true;
      r.user.name = "alice";
      return r;
    }
    gate.Pass();
    r.error = "unknown token";
    return r;
  }
};

// Allows everything; with a gate, only once the gate opens.
struct CountingAccessReviewer : SubjectAccessReviewer {
  Gate* gate = nullptr;
  std::atomic<int> calls{0};
  Result<Decision> Review(const Attributes&) override {
    ++calls;
    if (gate) gate->Pass();
    return Decision{true, ""};
  }
};

Request WithToken(const std::string& token) {
  Request r;
  r.method = "GET";
  r.path = "/apis";
  r.headers.Add("Authorization", "Bearer " + token);
  return r;
}

Request WithCertificate(const std::string& name) {
  Request r;
  r.method = "GET";
  r.path = "/apis";
  r.client_cert.present = r.client_cert.verified = true;
  r.client_cert.common_name = name;
  return r;
}

struct Answer {
  int status = 0;
  std::string body, retry_after;
  double seconds = 0;
};

// GET `path` once (no retries: a 429 must come back as it is); status -1
// when no answer came. Safe from any thread (no Catch assertions).
Answer Get(int port, const std::string& path, const CertificateAndKey* cert, const std::string& token = "") {
  http::HttpOptions o;
  o.ca_pem = TestPki().serving_ca.cert_pem;
  if (cert) o.client_cert_pem = cert->cert_pem, o.client_key_pem = cert->key_pem;
  o.retry.max_attempts = 1;
  o.idle_timeout = o.connect_timeout = std::chrono::seconds(20);
  Answer a;
  auto client = http::HttpClient::Create("test", *http::ParseUrl("https://127.0.0.1:" + std::to_string(port)), o);
  a.status = -1;
  if (!client.ok()) {
    a.body = client.error().message();
    return a;
  }
  http::HttpRequest r;
  r.target = path;
  if (!token.empty()) r.headers.push_back({"Authorization", "Bearer " + token});
  auto start = Clock::now();
  auto response = (*client)->Do(r);
  a.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!response.ok()) {
    a.body = response.error().message();
    return a;
  }
  a.status = response->status;
  a.body.assign(response->body.begin(), response->body.end());
  a.retry_after = response->Header("retry-after");
  return a;
}

// Client threads, released and joined however the test ends.
struct Clients {
  Gate& gate;
  std::vector<std::thread> threads;
  ~Clients() {
    gate.Open();
    for (auto& t : threads) t.join();
  }
};

// The real HTTPS server and router: client certificates and bearer tokens
// (GatedTokenReviewer), the standalone policy unless `authorizer` is given,
// and an auth pool of one thread with room for one more request.
struct Server {
  GatedTokenReviewer reviewer;
  HealthChecks health;
  Metrics metrics;
  ThreadPool auth_pool{1, 1};
  std::unique_ptr<Authenticator> authn;
  StandaloneAuthorizer standalone;
  std::unique_ptr<Router> router;
  std::unique_ptr<HttpServer> http;
  int port = 0;

  explicit Server(Authorizer* authorizer = nullptr) {
    health.Add("ping", [] { return true; });
    Router::DeclareMetrics(metrics);
    std::vector<std::unique_ptr<Authenticator>> chain;
    chain.push_back(std::make_unique<ClientCertAuthenticator>());
    chain.push_back(std::make_unique<TokenReviewAuthenticator>(&reviewer, std::chrono::seconds(60), nullptr));
    authn = std::make_unique<UnionAuthenticator>(std::move(chain));
    RouterParts parts;
    parts.health = &health;
    parts.authenticator = authn.get();
    parts.authorizer = authorizer ? authorizer : &standalone;
    parts.metrics = &metrics;
    parts.auth_pool = &auth_pool;
    router = std::make_unique<Router>(std::move(parts));
    const Pki& pki = TestPki();
    auto tls = MakeServerContext(TlsConfig{pki.serving, {pki.client_ca.cert_pem}, {}});
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
  ~Server() {
    reviewer.gate.Open();
    http->Stop();
    auth_pool.Shutdown();
  }
};

}  // namespace

TEST_CASE("thread pool: TrySubmit refuses at once when the queue is full, and after shutdown") {
  ThreadPool pool(1, 1);
  Gate gate;
  std::atomic<int> ran{0};
  REQUIRE(pool.TrySubmit([&] {
    gate.Pass();
    ++ran;
  }));
  REQUIRE(gate.Holds(1));                      // the one thread is busy
  CHECK(pool.TrySubmit([&] { ++ran; }));       // one may wait
  CHECK_FALSE(pool.TrySubmit([&] { ++ran; }));  // the next is refused, without blocking
  gate.Open();
  pool.Wait();
  CHECK(ran == 2);
  pool.Shutdown();
  CHECK_FALSE(pool.TrySubmit([&] { ++ran; }));
}

TEST_CASE("auth: the Try forms answer without a review only when none is needed") {
  GatedTokenReviewer reviewer;
  FakeClock clock;
  auto tokens = std::make_unique<TokenReviewAuthenticator>(&reviewer, std::chrono::seconds(10), nullptr, clock.fn());
  TokenReviewAuthenticator& t = *tokens;

  auto none = t.TryAuthenticate(Request{});
  REQUIRE(none);
  CHECK((none->ok() && !**none));  // no token: the next authenticator's turn
  CHECK_FALSE(t.TryAuthenticate(WithToken("good")));  // not reviewed yet: only the full form can tell
  CHECK(reviewer.calls == 0);
  CHECK((*t.Authenticate(WithToken("good")))->name == "alice");
  CHECK(reviewer.calls == 1);
  auto cached = t.TryAuthenticate(WithToken("good"));
  REQUIRE(cached);
  CHECK((**cached)->name == "alice");
  CHECK(reviewer.calls == 1);
  clock.Advance(std::chrono::seconds(11));
  CHECK_FALSE(t.TryAuthenticate(WithToken("good")));  // expired

  std::vector<std::unique_ptr<Authenticator>> chain;
  chain.push_back(std::make_unique<ClientCertAuthenticator>());
  chain.push_back(std::move(tokens));
  UnionAuthenticator both(std::move(chain));
  Request cert_and_token = WithCertificate("bob");
  cert_and_token.headers.Add("Authorization", "Bearer unknown");
  auto bob = both.TryAuthenticate(cert_and_token);  // the certificate decides first
  REQUIRE(bob);
  CHECK((**bob)->name == "bob");
  CHECK_FALSE(both.TryAuthenticate(WithToken("unknown")));
  CHECK(reviewer.calls == 1);

  CountingAccessReviewer access;
  SubjectAccessReviewAuthorizer sar(&access, SubjectAccessReviewOptions{}, clock.fn());
  Attributes health;
  health.verb = "get";
  health.path = "/healthz";
  REQUIRE(sar.TryAuthorize(health));
  CHECK((*sar.TryAuthorize(health))->allowed);
  Attributes list;
  list.user.name = "bob";
  list.verb = "list";
  list.resource_request = true;
  list.resource = "snapshots";
  CHECK_FALSE(sar.TryAuthorize(list));
  CHECK(sar.Authorize(list)->allowed);
  REQUIRE(sar.TryAuthorize(list));
  CHECK(access.calls == 1);
  SubjectAccessReviewAuthorizer nobody(nullptr, SubjectAccessReviewOptions{});
  REQUIRE(nobody.TryAuthorize(list));
  CHECK_FALSE((*nobody.TryAuthorize(list))->allowed);
}

TEST_CASE("auth: a flood of refused tokens does not push accepted ones out of the cache") {
  struct QuickReviewer : TokenReviewer {
    std::atomic<int> calls{0};
    Result<TokenReviewResult> Review(const std::string& token) override {
      ++calls;
      TokenReviewResult r;
      r.authenticated = token == "good";
      if (r.authenticated) r.user.name = "alice";
      return r;
    }
  } reviewer;
  TokenReviewAuthenticator t(&reviewer, std::chrono::seconds(60), nullptr);
  REQUIRE(t.Authenticate(WithToken("good")).ok());
  for (int i = 0; i < 10000; ++i) CHECK_FALSE(t.Authenticate(WithToken("flood-" + std::to_string(i))).ok());
  auto cached = t.TryAuthenticate(WithToken("good"));
  REQUIRE(cached);  // still cached: no review needed
  CHECK((**cached)->name == "alice");
  CHECK(reviewer.calls == 10001);
}

TEST_CASE("auth: concurrent calls for one key are made once") {
  SingleFlight<int> flights;
  Gate gate;
  std::atomic<int> calls{0};
  auto call = [&] {
    ++calls;
    gate.Pass();
    return 7;
  };
  std::vector<int> got(5);
  std::vector<std::thread> threads;
  threads.emplace_back([&] { got[0] = flights.Do("token", call); });
  REQUIRE(gate.Holds(1));
  for (int i = 1; i < 5; ++i) threads.emplace_back([&, i] { got[i] = flights.Do("token", call); });
  REQUIRE(Eventually([&] { return flights.joined() == 4; }));
  gate.Open();
  for (auto& t : threads) t.join();
  CHECK(calls == 1);
  CHECK(got == std::vector<int>(5, 7));
  CHECK(flights.Do("token", call) == 7);  // nothing cached here: a later call is made again
  CHECK(calls == 2);
}

TEST_CASE("router: reviews wait on the auth pool; health, certificates and cached tokens answer meanwhile") {
  Server s;
  const Pki& pki = TestPki();
  REQUIRE(Get(s.port, "/apis", nullptr, "good").status == 200);  // reviewed, now cached

  // Two unknown tokens: one under review (held), one queued; the pool is full.
  std::vector<Answer> held(2);
  Clients clients{s.reviewer.gate, {}};
  clients.threads.emplace_back([&] { held[0] = Get(s.port, "/apis", nullptr, "unknown-1"); });
  REQUIRE(s.reviewer.gate.Holds(1));
  clients.threads.emplace_back([&] { held[1] = Get(s.port, "/apis", nullptr, "unknown-2"); });
  REQUIRE(Eventually([&] { return s.auth_pool.queued() == 1; }));

  Answer busy = Get(s.port, "/apis", nullptr, "unknown-3");
  CHECK(busy.status == 429);
  CHECK(busy.retry_after == "1");
  CHECK(busy.body.find("\"reason\":\"TooManyRequests\"") != std::string::npos);

  Answer health = Get(s.port, "/healthz", nullptr);
  CHECK(health.status == 200);
  Answer bob = Get(s.port, "/apis", &pki.bob);
  CHECK(bob.status == 200);
  Answer alice = Get(s.port, "/apis", nullptr, "good");
  CHECK(alice.status == 200);
  // None of them waited for the held review (a generous bound for a shared machine).
  CHECK(std::max({busy.seconds, health.seconds, bob.seconds, alice.seconds}) < 2.0);
  CHECK(s.reviewer.calls == 2);  // "good" once, unknown-1; unknown-2 waits in the queue

  s.reviewer.gate.Open();
  for (auto& t : clients.threads) t.join();
  clients.threads.clear();
  CHECK(held[0].status == 401);
  CHECK(held[1].status == 401);
  CHECK(s.reviewer.calls == 3);
}

TEST_CASE("router: a SubjectAccessReview waits on the auth pool; cached decisions answer meanwhile") {
  Gate gate;
  CountingAccessReviewer access;
  SubjectAccessReviewOptions options;
  options.always_allow_groups.clear();
  SubjectAccessReviewAuthorizer sar(&access, options);
  Server s(&sar);
  const Pki& pki = TestPki();
  REQUIRE(Get(s.port, "/apis", &pki.bob).status == 200);  // reviewed at once, now cached
  access.gate = &gate;

  std::vector<Answer> held(2);
  Clients clients{gate, {}};
  clients.threads.emplace_back([&] { held[0] = Get(s.port, "/version", &pki.bob); });
  REQUIRE(gate.Holds(1));
  clients.threads.emplace_back([&] { held[1] = Get(s.port, "/openapi/v2", &pki.bob); });
  REQUIRE(Eventually([&] { return s.auth_pool.queued() == 1; }));
  CHECK(Get(s.port, "/openapi/v3", &pki.bob).status == 429);
  Answer health = Get(s.port, "/healthz", nullptr);
  Answer cached = Get(s.port, "/apis", &pki.bob);
  CHECK(health.status == 200);
  CHECK(cached.status == 200);
  CHECK(std::max(health.seconds, cached.seconds) < 2.0);

  gate.Open();
  for (auto& t : clients.threads) t.join();
  clients.threads.clear();
  CHECK(held[0].status == 200);
  CHECK(held[1].status == 200);
  CHECK(access.calls == 3);
}
