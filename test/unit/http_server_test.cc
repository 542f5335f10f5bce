// The HTTPS server's connection handling over real TLS (a raw OpenSSL
// client, so the bytes on the wire are ours to choose): large bodies in
// batched records, keep-alive and pipelined requests, the client
// certificate, limits, chunked streams and their backlog, and close_notify.
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "net/server/http_server.h"
#include "net/server/tls.h"
#include "test/unit/auth_test_util.h"

using namespace stash;
using namespace stash::server;
using namespace stash::apiserver::auth_test;

namespace {

// 5 MiB that are not one repeated byte: a record put in the wrong place shows.
std::string BigBody() {
  std::string s(5 * 1024 * 1024 + 123, '\0');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 4099) % 26);
  return s;
}

// A body of 20,000 small pieces pointed at, the commas between them copied,
// and one large piece: as a list of sealed objects goes out.
std::string PieceText(int i) { return std::string(1 + (i * 31) % 500, static_cast<char>('A' + i % 26)); }
PiecedText PiecedBody() {
  auto parts = std::make_shared<std::vector<std::string>>();
  for (int i = 0; i < 20000; ++i) parts->push_back(PieceText(i));
  parts->push_back(BigBody());
  PiecedText t;
  t.Keep(parts);
  for (const auto& p : *parts) {
    t.Point(p);
    t.Copy(",");
  }
  return t;
}
std::string PiecedWhole() {
  std::string s = "head:";
  for (int i = 0; i < 20000; ++i) s += PieceText(i) + ",";
  return s + BigBody() + ",";
}

struct TestServer {
  std::unique_ptr<HttpServer> http;
  int port = 0;
  std::atomic<int> requests{0};
  std::shared_ptr<StreamWriter> stream;

  explicit TestServer(ServerOptions net = {}) {
    const Pki& pki = TestPki();
    auto tls = MakeServerContext(TlsConfig{pki.serving, {pki.client_ca.cert_pem}, {}});
    REQUIRE(tls.ok());
    net.bind_address = "127.0.0.1";
    net.port = 0;
    http = std::make_unique<HttpServer>(net, *tls, [this](Request q, std::shared_ptr<Responder> w) {
      ++requests;
      if (q.path == "/stream") {
        stream = w->Stream(200, "text/plain", {});
        return;
      }
      Response r;
      r.content_type = "text/plain";
      if (q.path == "/big") {
        r.body = BigBody();
      } else if (q.path == "/pieces") {
        r.body = "head:";
        r.pieces = PiecedBody();
      } else if (q.path == "/who") {
        r.body = q.client_cert.verified ? q.client_cert.common_name : "anonymous";
      } else {
        r.body = q.method + " " + q.target + " " + std::to_string(q.body.size());
      }
      w->Send(std::move(r));
    });
    auto p = http->Listen();
    REQUIRE(p.ok());
    port = *p;
    http->Start();
  }
  ~TestServer() { http->Stop(); }
};

// A blocking TLS client on one connection.
struct Client {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = nullptr;
  int fd = -1;

  Client(int port, const CertificateAndKey* cert = nullptr) {
    if (cert) {
      BIO* c = BIO_new_mem_buf(cert->cert_pem.data(), static_cast<int>(cert->cert_pem.size()));
      BIO* k = BIO_new_mem_buf(cert->key_pem.data(), static_cast<int>(cert->key_pem.size()));
      X509* x = PEM_read_bio_X509(c, nullptr, nullptr, nullptr);
      EVP_PKEY* key = PEM_read_bio_PrivateKey(k, nullptr, nullptr, nullptr);
      REQUIRE((x && key));
      SSL_CTX_use_certificate(ctx, x);
      SSL_CTX_use_PrivateKey(ctx, key);
      X509_free(x);
      EVP_PKEY_free(key);
      BIO_free(c);
      BIO_free(k);
    }
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    REQUIRE(SSL_connect(ssl) == 1);
  }
  ~Client() {
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
  }
  void Send(const std::string& s) { REQUIRE(SSL_write(ssl, s.data(), static_cast<int>(s.size())) > 0); }
  // Reads until `n` bytes arrived or the connection ended; also returns
  // how it ended (SSL_ERROR_ZERO_RETURN: close_notify).
  std::string Read(size_t n, int* end = nullptr) {
    std::string out;
    char buf[65536];
    while (out.size() < n) {
      int r = SSL_read(ssl, buf, static_cast<int>(std::min(sizeof buf, n - out.size())));
      if (r <= 0) {
        if (end) *end = SSL_get_error(ssl, r);
        break;
      }
      out.append(buf, static_cast<size_t>(r));
    }
    return out;
  }
  // One response with a Content-Length body: head and body.
  std::pair<std::string, std::string> Response() {
    std::string head;
    while (head.find("\r\n\r\n") == std::string::npos) {
      std::string b = Read(1);
      if (b.empty()) return {head, ""};
      head += b;
    }
    auto at = head.find("Content-Length: ");
    REQUIRE(at != std::string::npos);
    size_t length = std::stoul(head.substr(at + 16));
    return {head, Read(length)};
  }
};

}  // namespace

TEST_CASE("http server: a large body whole, twice on one keep-alive connection") {
  TestServer server;
  Client client(server.port);
  const std::string big = BigBody();
  for (int i = 0; i < 2; ++i) {
    client.Send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    auto [head, body] = client.Response();
    REQUIRE(head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    REQUIRE(body.size() == big.size());
    REQUIRE(body == big);
  }
  CHECK(server.http->connections() == 1);
}

TEST_CASE("http server: a body in pieces goes out whole, after the string body, twice on one connection") {
  TestServer server;
  Client client(server.port);
  const std::string want = PiecedWhole();
  for (int i = 0; i < 2; ++i) {
    client.Send("GET /pieces HTTP/1.1\r\nHost: x\r\n\r\n");
    auto [head, body] = client.Response();
    REQUIRE(head.find("Content-Length: " + std::to_string(want.size()) + "\r\n") != std::string::npos);
    REQUIRE(body.size() == want.size());
    REQUIRE(body == want);
  }
  client.Send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(client.Response().second == "GET /a 0");
}

TEST_CASE("http server: TLS as kube clients meet it: AES-128-GCM first, no session tickets") {
  TestServer server;
  Client client(server.port);
  client.Send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(client.Response().second == "GET /a 0");  // any ticket would have come before the answer
  CHECK(std::string(SSL_get_cipher_name(client.ssl)) == "TLS_AES_128_GCM_SHA256");
  CHECK(SSL_SESSION_has_ticket(SSL_get_session(client.ssl)) == 0);
}

TEST_CASE("http server: pipelined requests answered in order, with their bodies") {
  TestServer server;
  Client client(server.port);
  client.Send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b?q=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz"
              "GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(client.Response().second == "GET /a 0");
  CHECK(client.Response().second == "POST /b?q=1 3");
  auto [head, body] = client.Response();
  CHECK(body == "GET /c 0");
  CHECK(head.find("Connection: close\r\n") != std::string::npos);
  int end = 0;
  CHECK(client.Read(1, &end).empty());
  CHECK(end == SSL_ERROR_ZERO_RETURN);  // close_notify, not a reset
}

TEST_CASE("http server: the client certificate reaches the handler") {
  TestServer server;
  Client bob(server.port, &TestPki().bob);
  bob.Send("GET /who HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(bob.Response().second == "bob");
  Client anonymous(server.port);
  anonymous.Send("GET /who HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(anonymous.Response().second == "anonymous");
  // The handshake takes a certificate of a CA nobody trusts; the handler
  // learns it is not verified.
  Client mallory(server.port, &TestPki().stranger);
  mallory.Send("GET /who HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(mallory.Response().second == "anonymous");
}

TEST_CASE("http server: limits answer 431, 413 and 400, then close") {
  ServerOptions options;
  options.max_header_bytes = 1024;
  options.max_body_bytes = 100;
  TestServer server(options);
  {
    Client client(server.port);
    client.Send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n");
    CHECK(client.Response().first.rfind("HTTP/1.1 431 ", 0) == 0);
  }
  {
    Client client(server.port);
    client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'b'));
    CHECK(client.Response().first.rfind("HTTP/1.1 413 ", 0) == 0);
  }
  {
    Client client(server.port);
    client.Send("NOT HTTP AT ALL\r\n\r\n");
    CHECK(client.Response().first.rfind("HTTP/1.1 400 ", 0) == 0);
  }
  CHECK(server.requests == 0);
}

TEST_CASE("http server: a stalled request is dropped after the read timeout") {
  ServerOptions options;
  options.read_timeout = std::chrono::milliseconds(300);
  TestServer server(options);
  Client client(server.port);
  client.Send("GET / HTTP/1.1\r\n");
  auto start = std::chrono::steady_clock::now();
  CHECK(client.Read(1).empty());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("http server: a chunked stream, and a client too far behind is cut off") {
  ServerOptions options;
  options.max_stream_backlog = 1024 * 1024;
  TestServer server(options);
  Client client(server.port);
  client.Send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  for (int i = 0; i < 200 && !server.stream; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(server.stream);
  REQUIRE(server.stream->Write("hello"));
  std::string got;
  while (got.find("5\r\nhello\r\n") == std::string::npos) {
    std::string b = client.Read(1);
    REQUIRE(!b.empty());
    got += b;
  }
  CHECK(got.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  // The client reads nothing more: the queue fills and the server hangs up.
  const std::string chunk(64 * 1024, 'c');
  bool refused = false;
  for (int i = 0; i < 2000 && !refused; ++i) refused = !server.stream->Write(chunk);
  CHECK(refused);
  for (int i = 0; i < 200 && !server.stream->closed(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(server.stream->closed());
}
