// HttpClient: blocking HTTP/1.1 requests to one server, for the backends.
//
// Built on Boost.Beast and Asio, which stay inside the .cc files: callers
// see plain structs and Result. One client talks to one origin (scheme,
// host, port) and keeps a small pool of idle keep-alive connections, so
// several threads can call Do() at once, each on its own connection.
//
// Do() retries by itself (retry.h): on connection failures, resets and
// timeouts, and on 5xx/429 answers, with exponential backoff. A keep-alive
// connection that the server closed while it sat in the pool fails at once
// on reuse; that costs no attempt. Every other status comes back as an
// HttpResponse for the backend to interpret.
//
// HTTPS verifies the server's certificate against the system CAs and an
// optional extra CA file, and its name (DNS name with SNI, or IP address).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "net/retry.h"
#include "net/url.h"

namespace stash::http {

struct HttpOptions {
  std::string ca_file;  // extra trusted CAs (PEM), e.g. from --cacert
  std::string ca_pem;   // extra trusted CAs as PEM text (a Secret's CA_CERT_DATA)
  // A client certificate (with intermediates) and its key, PEM text, presented
  // when the server asks (a kubeconfig's client-certificate-data).
  std::string client_cert_pem, client_key_pem;
  std::chrono::milliseconds connect_timeout{30000};
  // A request fails when the peer sends or accepts no byte for this long;
  // large transfers are fine as long as they move.
  std::chrono::milliseconds idle_timeout{60000};
  RetryPolicy retry;
  size_t max_idle_connections = 8;
  // Told about each retry ("rest: data/ab12...: 500 Internal Server Error;
  // retrying in 1.2s"); nullptr for silence.
  std::function<void(const std::string&)> on_retry;
};

// Defaults, overridden by STASH_HTTP_TIMEOUT (idle and connect timeout,
// seconds), STASH_HTTP_RETRIES (attempts) and STASH_HTTP_BACKOFF (first
// retry delay, milliseconds): knobs for tests and slow links.
HttpOptions HttpOptionsFromEnvironment();

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";  // encoded path and query, sent as is
  Headers headers;           // Host and Content-Length are added
  ByteView body;             // sent straight from the caller's memory
  // Or the first `size` bytes of an open file, read a piece at a time as
  // they are sent (pread: the descriptor's offset is left alone), so a
  // large upload is never all in memory, nor mapped. Used when fd >= 0.
  struct FileBody {
    int fd = -1;
    uint64_t size = 0;
  } body_file;
  // The bytes the body holds, from memory or from the file.
  uint64_t BodySize() const { return body_file.fd >= 0 ? body_file.size : body.size(); }
  // A buffer whose memory the response body may take over (its contents
  // are dropped): a reader of many ranges passes its last one, so bodies
  // fill pages already touched instead of fresh ones.
  Bytes* reuse_body = nullptr;
  // Overrides the client's idle timeout for this request (0: keep it): a
  // watch may rightly stay quiet for minutes.
  std::chrono::milliseconds idle_timeout{0};
  std::string what;          // the object, for messages ("data/ab12...")
  // Headers computed per attempt (e.g. a signature with the current time).
  std::function<void(HttpRequest&)> sign;
};

struct HttpResponse {
  int status = 0;
  std::string reason;  // "Not Found"
  Headers headers;     // names in lower case
  Bytes body;
  int attempts = 1;    // times the request was sent: >1 means an earlier one may have landed

  // The first value of a header (name in lower case), or "".
  std::string Header(std::string_view name) const;
  std::string BodyText(size_t limit = 200) const;
};

// Receives a streamed body piece by piece; returns false to stop reading.
using BodySink = std::function<bool(std::string_view)>;

class Connection;
class TlsContext;

class HttpClient {
 public:
  // `name` prefixes every message ("rest", "s3"); `origin` names the server.
  static Result<std::unique_ptr<HttpClient>> Create(std::string name, const Url& origin,
                                                    HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `request` (retrying as above) and returns the final response, or
  // kIO naming the object and the last failure once attempts run out.
  Result<HttpResponse> Do(const HttpRequest& request);

  // Sends `request` once on a connection of its own and streams the answer
  // (Connection::Stream): for responses that last, like watches. Failures to
  // connect come back as kIO; the caller decides when to try again.
  Status Stream(const HttpRequest& request, HttpResponse* head, const BodySink& on_data,
                const std::atomic<bool>* cancel = nullptr);

  const std::string& name() const { return name_; }
  const Url& origin() const { return origin_; }

 private:
  HttpClient(std::string name, Url origin, HttpOptions options,
             std::unique_ptr<TlsContext> tls);
  Result<std::unique_ptr<Connection>> Checkout(bool* reused);
  void Return(std::unique_ptr<Connection> conn);
  void DropIdle();
  void Pause(int retry, const HttpRequest& request, const std::string& why,
             std::chrono::milliseconds at_least);

  std::string name_;
  Url origin_;
  HttpOptions options_;
  std::unique_ptr<TlsContext> tls_;
  struct Pool;
  std::unique_ptr<Pool> pool_;
};

// The error for an unexpected status, in the form every backend uses:
// "s3: data/ab12...: 403 Forbidden: SignatureDoesNotMatch". 404 maps to
// kNotFound, 401/403 to kAuth, the rest to kIO.
Error StatusError(const std::string& backend, const std::string& what,
                  const HttpResponse& response, const std::string& detail);

}  // namespace stash::http
