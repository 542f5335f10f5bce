// The HTTP client and both remote backends against a scripted local server:
// keep-alive reuse, retries on 5xx/drops/stalls, no retry on 4xx, error
// messages that name the object, pagination and request signing.
#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <thread>

#include "crypto/id.h"
#include "net/http_client.h"
#include "storage/backends/rest_backend.h"
#include "storage/backends/s3_backend.h"
#include "test/unit/fake_http_server.h"

using namespace stash;
using namespace stash::http;
using stash::testing::FakeAction;
using stash::testing::FakeHttpServer;

namespace {

HttpOptions FastOptions(int attempts = 4) {
  HttpOptions o;
  o.retry.max_attempts = attempts;
  o.retry.base_delay = std::chrono::milliseconds(1);
  o.retry.max_delay = std::chrono::milliseconds(5);
  o.idle_timeout = std::chrono::milliseconds(2000);
  o.connect_timeout = std::chrono::milliseconds(2000);
  return o;
}

std::unique_ptr<HttpClient> ClientFor(const FakeHttpServer& server, HttpOptions options) {
  auto url = ParseUrl("http://127.0.0.1:" + std::to_string(server.port()) + "/");
  REQUIRE(url.ok());
  auto client = HttpClient::Create("test", *url, std::move(options));
  REQUIRE(client.ok());
  return std::move(client).value();
}

HttpRequest Get(const std::string& what = "data/xyz") {
  HttpRequest r;
  r.target = "/" + what;
  r.what = what;
  return r;
}

FakeAction Answer(int status, std::string body = "", std::string headers = "") {
  return {FakeAction::kAnswer, status, std::move(body), std::move(headers), false};
}
FakeAction Drop() { return {FakeAction::kDrop, 0, "", "", false}; }
FakeAction Stall() { return {FakeAction::kStallMidBody, 0, "", "", false}; }
FakeAction Cut(std::string body) { return {FakeAction::kCutMidBody, 200, std::move(body), "", false}; }

std::string Text(const Bytes& b) { return std::string(b.begin(), b.end()); }

}  // namespace

TEST_CASE("client: keeps the connection alive between requests", "[client]") {
  FakeHttpServer server;
  auto client = ClientFor(server, FastOptions());
  server.Script({Answer(200, "one"), Answer(200, "two")});
  auto a = client->Do(Get());
  auto b = client->Do(Get());
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(Text(a->body) == "one");
  CHECK(Text(b->body) == "two");
  CHECK(a->attempts == 1);
  CHECK(server.connections() == 1);
  auto seen = server.requests();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].target == "/data/xyz");
  CHECK(seen[0].headers.find("Host: 127.0.0.1:" + std::to_string(server.port())) !=
        std::string::npos);
}

TEST_CASE("client: a response body fills the buffer the caller lends", "[client]") {
  FakeHttpServer server;
  auto client = ClientFor(server, FastOptions());
  std::string big(100000, 'x'), small = "short";
  server.Script({Answer(200, big), Answer(200, small), Answer(503, "busy"), Answer(200, "again")});
  Bytes lent;
  lent.reserve(200000);
  const uint8_t* memory = lent.data();
  HttpRequest request = Get();
  request.reuse_body = &lent;
  auto a = client->Do(request);
  REQUIRE(a.ok());
  CHECK(Text(a->body) == big);
  CHECK(a->body.data() == memory);  // the lent memory, not a fresh allocation
  // Lent again with old contents: they are dropped, not kept in front.
  lent = std::move(a->body);
  auto b = client->Do(request);
  REQUIRE(b.ok());
  CHECK(Text(b->body) == small);
  CHECK(b->body.data() == memory);
  // A retried request still gets its whole answer (the first attempt
  // took the buffer for its error body).
  lent = std::move(b->body);
  auto c = client->Do(request);
  REQUIRE(c.ok());
  CHECK(Text(c->body) == "again");
  CHECK(c->attempts == 2);
}

TEST_CASE("client: a large body is read into the lent buffer whole, or not at all", "[client]") {
  FakeHttpServer server;
  auto client = ClientFor(server, FastOptions(2));
  std::string big(300000, 'x');
  for (size_t i = 0; i < big.size(); i += 997) big[i] = static_cast<char>('a' + i % 26);
  std::string smaller = big.substr(1000, 150000);
  server.Script({Answer(200, big), Answer(200, smaller), Cut(big), Answer(200, big)});
  Bytes lent(400000, 'y');  // longer than any answer, with stale contents
  HttpRequest request = Get();
  request.reuse_body = &lent;
  auto a = client->Do(request);
  REQUIRE(a.ok());
  CHECK(Text(a->body) == big);
  lent = std::move(a->body);
  auto b = client->Do(request);
  REQUIRE(b.ok());
  CHECK(Text(b->body) == smaller);
  // Cut short after half its body: retried, and the retry's answer whole.
  lent = std::move(b->body);
  auto c = client->Do(request);
  REQUIRE(c.ok());
  CHECK(c->attempts == 2);
  CHECK(Text(c->body) == big);

  server.Script({Cut(big), Cut(big)});
  auto failed = client->Do(Get());
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().message().find("partial message") != std::string::npos);
}

TEST_CASE("client: retries 5xx and dropped connections, not 4xx", "[client]") {
  FakeHttpServer server;
  std::vector<std::string> retries;
  auto options = FastOptions();
  options.on_retry = [&](const std::string& m) { retries.push_back(m); };
  auto client = ClientFor(server, options);
  // The drop comes first: on a pooled connection it would pass for a stale
  // keep-alive and be retried for free.
  server.Script({Drop(), Answer(500), Answer(200, "finally")});
  auto r = client->Do(Get());
  REQUIRE(r.ok());
  CHECK(Text(r->body) == "finally");
  CHECK(r->attempts == 3);
  REQUIRE(retries.size() == 2);
  CHECK(retries[0].find("connection closed by the server; retrying in") != std::string::npos);
  CHECK(retries[1].rfind("test: data/xyz: 500 Internal Server Error; retrying in", 0) == 0);

  server.Script({Answer(404, "nope"), Answer(200, "never")});
  auto missing = client->Do(Get());
  REQUIRE(missing.ok());
  CHECK(missing->status == 404);
  CHECK(server.requests().size() == 4);
  Error e = StatusError("test", "data/xyz", *missing, missing->BodyText());
  CHECK(e.kind() == ErrorKind::kNotFound);
  CHECK(e.message() == "test: data/xyz: 404 Not Found: nope");
}

TEST_CASE("client: gives up after the last attempt, naming the object", "[client]") {
  FakeHttpServer server;
  auto client = ClientFor(server, FastOptions(3));
  server.Script({Answer(503, "busy"), Answer(503, "busy"), Answer(503, "busy")});
  auto r = client->Do(Get());
  REQUIRE(r.ok());
  CHECK(r->status == 503);
  CHECK(StatusError("test", "data/xyz", *r, r->BodyText()).message() ==
        "test: data/xyz: 503 Service Unavailable: busy (after 3 attempts)");

  server.Script({Drop(), Drop(), Drop()});
  auto fresh = ClientFor(server, FastOptions(3));  // no pooled connection to forgive
  auto dropped = fresh->Do(Get());
  REQUIRE_FALSE(dropped.ok());
  CHECK(dropped.error().kind() == ErrorKind::kIO);
  CHECK(dropped.error().message().rfind("test: data/xyz: ", 0) == 0);
  CHECK(dropped.error().message().find("gave up after 3 attempts") != std::string::npos);
}

TEST_CASE("client: a response that stalls mid-body times out and is retried", "[client]") {
  FakeHttpServer server;
  auto options = FastOptions();
  options.idle_timeout = std::chrono::milliseconds(500);
  auto client = ClientFor(server, options);
  server.Script({Stall(), Answer(200, "whole")});
  auto r = client->Do(Get());
  REQUIRE(r.ok());
  CHECK(Text(r->body) == "whole");
  CHECK(r->attempts == 2);

  server.Script({Stall(), Stall()});
  options.retry.max_attempts = 2;
  auto impatient = ClientFor(server, options);
  auto failed = impatient->Do(Get());
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().message().find("timed out") != std::string::npos);
}

TEST_CASE("client: a pooled connection the server closed costs no attempt", "[client]") {
  FakeHttpServer server;
  auto client = ClientFor(server, FastOptions(1));
  server.Script({Answer(200, "first"), Drop(), Answer(200, "second")});
  REQUIRE(client->Do(Get()).ok());
  auto r = client->Do(Get());  // pooled connection dies before answering
  REQUIRE(r.ok());
  CHECK(Text(r->body) == "second");
  CHECK(server.connections() == 2);
}

TEST_CASE("client: large uploads, HEAD answers, refused connections", "[client]") {
  FakeHttpServer server;
  auto client = ClientFor(server, FastOptions());
  Bytes big(5 << 20);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7);
  HttpRequest post = Get();
  post.method = "POST";
  post.body = big;
  auto echoed = client->Do(post);  // the script is empty: the server echoes
  REQUIRE(echoed.ok());
  CHECK(echoed->body == big);
  CHECK(server.requests().back().body_size == big.size());

  // The same bytes from a file, sent in pieces, and sent whole again on a
  // retry. A file shorter than promised is refused before anything is sent.
  int fd = ::memfd_create("body", 0);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, big.data(), big.size()) == static_cast<ssize_t>(big.size()));
  HttpRequest from_file = Get();
  from_file.method = "POST";
  from_file.body_file = {fd, big.size()};
  server.Script({Answer(500)});  // then the server echoes
  auto again = client->Do(from_file);
  REQUIRE(again.ok());
  CHECK(again->attempts == 2);
  CHECK(again->body == big);
  from_file.body_file.size = big.size() + 10;
  const size_t seen_before = server.requests().size();
  auto too_short = client->Do(from_file);
  REQUIRE_FALSE(too_short.ok());
  CHECK(too_short.error().kind() == ErrorKind::kInvalid);
  CHECK(too_short.error().message().find("holds 5242880 bytes, not 5242890") != std::string::npos);
  CHECK(server.requests().size() == seen_before);
  ::close(fd);

  server.Script({Answer(200, "12345")});
  HttpRequest head = Get();
  head.method = "HEAD";
  auto h = client->Do(head);
  REQUIRE(h.ok());
  CHECK(h->body.empty());
  CHECK(h->Header("content-length") == "5");
  REQUIRE(client->Do(Get()).ok());  // the connection survived the HEAD

  int port = server.port();
  auto url = ParseUrl("http://127.0.0.1:1/");
  auto refused_client = HttpClient::Create("test", *url, FastOptions(2));
  REQUIRE(refused_client.ok());
  auto refused = (*refused_client)->Do(Get());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message().find("connect to 127.0.0.1:1") != std::string::npos);
  (void)port;
}

TEST_CASE("client: many threads share one client", "[client]") {
  FakeHttpServer server;
  auto client = ClientFor(server, FastOptions());
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        std::string payload = std::to_string(t) + "/" + std::to_string(i);
        HttpRequest r = Get();
        r.method = "PUT";
        r.body = AsBytes(payload);
        auto res = client->Do(r);
        if (res.ok() && Text(res->body) == payload) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 120);
  CHECK(server.connections() <= 6);
}

TEST_CASE("rest: a retried upload that had landed counts as written", "[rest]") {
  FakeHttpServer server;
  auto backend = RestBackend::Open(
      "rest:http://u:p@127.0.0.1:" + std::to_string(server.port()) + "/repo", FastOptions());
  REQUIRE(backend.ok());
  std::string data = "pack bytes";
  std::string id = Sha256(AsBytes(data)).Hex();
  std::string size_header = std::string(data.size(), 'x');
  // HEAD: none; POST: lost, then 403; HEAD: there; then the stored file is
  // compared with ours (HEAD, GET).
  server.Script({Answer(404), Drop(), Answer(403, "exists"), Answer(200, size_header),
                 Answer(200, size_header), Answer(200, data)});
  REQUIRE((*backend)->Write(FileType::kPack, id, AsBytes(data)).ok());
  auto seen = server.requests();
  REQUIRE(seen.size() == 6);
  CHECK(seen[5].method == "GET");
  CHECK(seen[1].method == "POST");
  CHECK(seen[1].target == "/repo/data/" + id);
  CHECK(seen[1].headers.find("Authorization: Basic dTpw") != std::string::npos);
  CHECK(seen[1].headers.find("Accept: application/vnd.x.restic.rest.v2") != std::string::npos);

  server.Script({Answer(200, "[\"" + id + "\"]", "Content-Type: application/json\r\n"),
                 Answer(200, size_header)});
  auto listed = (*backend)->List(FileType::kPack);  // v1 answer: one HEAD per name
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].size == data.size());

  server.Script({Answer(500), Answer(500), Answer(500), Answer(500)});
  auto read = (*backend)->Read(FileType::kPack, id, 2, 3);
  REQUIRE_FALSE(read.ok());
  CHECK(read.error().message() == "rest: data/" + id + ": 500 Internal Server Error (after 4 attempts)");
  CHECK(server.requests().back().headers.find("Range: bytes=2-4") != std::string::npos);
}

TEST_CASE("s3: signed requests, pagination and error messages", "[s3]") {
  FakeHttpServer server;
  S3Config config;
  config.endpoint = "127.0.0.1:" + std::to_string(server.port());
  config.use_http = true;
  config.bucket = "bkt";
  config.prefix = "pre";
  config.credentials = {"AKID", "SECRET", ""};
  auto backend = S3Backend::Open(config, FastOptions());
  REQUIRE(backend.ok());
  std::string id(64, 'a');
  auto page = [&](const std::string& contents, const std::string& token) {
    return Answer(200, "<ListBucketResult>" + contents + "<IsTruncated>" +
                           (token.empty() ? "false" : "true") + "</IsTruncated>" +
                           (token.empty() ? "" : "<NextContinuationToken>" + token +
                                                     "</NextContinuationToken>") +
                           "</ListBucketResult>");
  };
  std::string one = "<Contents><Key>pre/snapshots/" + id + "</Key><Size>7</Size></Contents>";
  std::string two = "<Contents><Key>pre/snapshots/" + std::string(64, 'b') +
                    "</Key><Size>9</Size></Contents>";
  server.Script({page("<Contents><Key>pre/keys/" + id + "</Key><Size>1</Size></Contents>", ""),
                 page(one, "t/k+n"), page(two, "")});
  auto listed = (*backend)->List(FileType::kSnapshot);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);
  CHECK((*listed)[1].size == 9);
  auto seen = server.requests();
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].target == "/bkt/?list-type=2&prefix=pre%2Fkeys%2F");
  CHECK(seen[2].target ==
        "/bkt/?continuation-token=t%2Fk%2Bn&list-type=2&prefix=pre%2Fsnapshots%2F");
  CHECK(seen[0].headers.find("Authorization: AWS4-HMAC-SHA256 Credential=AKID/") !=
        std::string::npos);
  CHECK(seen[0].headers.find("SignedHeaders=host;x-amz-content-sha256;x-amz-date,") !=
        std::string::npos);

  std::string error = "<Error><Code>SignatureDoesNotMatch</Code><Message>no</Message></Error>";
  server.Script({Answer(404), Answer(403, error)});
  auto wrote = (*backend)->Write(FileType::kKey, id, AsBytes("key"));
  REQUIRE_FALSE(wrote.ok());
  CHECK(wrote.error().kind() == ErrorKind::kAuth);
  CHECK(wrote.error().message() == "s3: keys/" + id + ": 403 Forbidden: SignatureDoesNotMatch");
  auto put = server.requests().back();
  CHECK(put.method == "PUT");
  CHECK(put.target == "/bkt/pre/keys/" + id);
  CHECK(put.headers.find("x-amz-content-sha256: " + Sha256(AsBytes("key")).Hex()) !=
        std::string::npos);

  // A pack goes from its file, and its name, the SHA-256 of its bytes, is
  // the body's checksum as it stands (the server checks it); other files
  // are mapped and hashed.
  const ByteView pack_bytes = AsBytes("pack bytes");
  const std::string pack_name = Sha256(pack_bytes).Hex();
  int fd = ::memfd_create("pack", 0);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, pack_bytes.data(), pack_bytes.size()) == static_cast<ssize_t>(pack_bytes.size()));
  server.Script({Answer(404), Answer(200)});
  REQUIRE((*backend)->WriteFromFile(FileType::kPack, std::string(64, 'c'), fd, pack_bytes.size()).ok());
  CHECK(server.requests().back().headers.find("x-amz-content-sha256: " + std::string(64, 'c')) !=
        std::string::npos);
  CHECK(server.requests().back().body == "pack bytes");  // sent from the file
  server.Script({Answer(404), Answer(200)});
  REQUIRE((*backend)->WriteFromFile(FileType::kIndex, std::string(64, 'd'), fd, pack_bytes.size()).ok());
  CHECK(server.requests().back().headers.find("x-amz-content-sha256: " + pack_name) != std::string::npos);
  CHECK(server.requests().back().body == "pack bytes");
  ::close(fd);

  server.Script({Answer(404)});
  auto missing = (*backend)->Stat(FileType::kPack, id);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind() == ErrorKind::kNotFound);
  CHECK(server.requests().back().target == "/bkt/pre/data/aa/" + id);
}
