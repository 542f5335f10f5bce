// RequestReader: HTTP/1.1 framing of a connection's bytes, with the bytes
// split at every point, pipelined requests, limits and early closes.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "net/server/request_reader.h"

using namespace stash::server;
using Kind = RequestReader::Kind;

namespace {

// Feeds `bytes` in pieces of `step` and collects what comes out, then the close.
std::vector<RequestReader::Outcome> ReadAll(const std::string& bytes, size_t step, bool close = true,
                                            size_t max_header = 1024, size_t max_body = 4096) {
  RequestReader reader(max_header, max_body);
  std::vector<RequestReader::Outcome> out;
  auto drain = [&] {
    while (true) {
      auto next = reader.Next();
      if (next.kind == Kind::kNeedMore) return true;
      bool more = next.kind == Kind::kRequest;
      out.push_back(std::move(next));
      if (!more) return false;
    }
  };
  for (size_t at = 0; at < bytes.size(); at += step) {
    reader.input().append(bytes, at, step);
    if (!drain()) return out;
  }
  if (close) out.push_back(reader.Eof());
  return out;
}

}  // namespace

TEST_CASE("RequestReader: requests split anywhere come out whole", "[server]") {
  const std::string bytes =
      "GET /apis/x/v1/namespaces/a%20b/snapshots?labelSelector=k%3Dv&limit=5 HTTP/1.1\r\n"
      "Host: h\r\nX-Remote-Group: a\r\nX-Remote-Group: b\r\n\r\n"
      "DELETE /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
  for (size_t step : {1, 2, 7, 64, 4096}) {
    INFO("step " << step);
    auto out = ReadAll(bytes, step);
    REQUIRE(out.size() == 3);
    REQUIRE(out[0].kind == Kind::kRequest);
    CHECK(out[0].request.method == "GET");
    CHECK(out[0].request.path == "/apis/x/v1/namespaces/a b/snapshots");
    CHECK(out[0].request.query.Get("labelSelector") == "k=v");
    CHECK(out[0].request.headers.GetAll("x-remote-group") == std::vector<std::string>{"a", "b"});
    CHECK(out[0].keep_alive);
    REQUIRE(out[1].kind == Kind::kRequest);
    CHECK(out[1].request.method == "DELETE");
    CHECK(out[1].request.body == "hello");
    CHECK(!out[1].keep_alive);
    CHECK(out[2].kind == Kind::kGone);  // closed between requests
  }
}

TEST_CASE("RequestReader: bad requests are answered with the right status", "[server]") {
  SECTION("malformed request line") {
    auto out = ReadAll("GET\x01 / HTTP/1.1\r\n\r\n", 3);
    REQUIRE(out.back().kind == Kind::kReject);
    CHECK(out.back().status == 400);
  }
  SECTION("malformed target escape") {
    auto out = ReadAll("GET /a%zz HTTP/1.1\r\nHost: h\r\n\r\n", 5);
    REQUIRE(out.back().kind == Kind::kReject);
    CHECK(out.back().status == 400);
    CHECK(out.back().message == "malformed request target");
  }
  SECTION("headers over the limit") {
    auto out = ReadAll("GET / HTTP/1.1\r\nX: " + std::string(2000, 'a') + "\r\n\r\n", 100);
    REQUIRE(out.back().kind == Kind::kReject);
    CHECK(out.back().status == 431);
  }
  SECTION("body over the limit") {
    auto out = ReadAll("PUT / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'b'), 512);
    REQUIRE(out.back().kind == Kind::kReject);
    CHECK(out.back().status == 413);
  }
  SECTION("closed in the middle of a body") {
    auto out = ReadAll("PUT / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", 4);
    REQUIRE(out.size() == 1);
    CHECK(out[0].kind == Kind::kReject);
    CHECK(out[0].status == 400);
  }
  SECTION("closed before anything came") {
    auto out = ReadAll("", 1);
    REQUIRE(out.size() == 1);
    CHECK(out[0].kind == Kind::kGone);
  }
}

TEST_CASE("RequestReader: HEAD and HTTP/1.0 keep-alive", "[server]") {
  auto out = ReadAll("HEAD /healthz HTTP/1.0\r\n\r\n", 8, false);
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].kind == Kind::kRequest);
  CHECK(out[0].head);
  CHECK(!out[0].keep_alive);
}
