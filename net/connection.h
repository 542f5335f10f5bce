// Internal to the HTTP client: one HTTP/1.1 connection (plain or TLS) and
// the TLS settings shared by all connections of a client.
//
// A Connection is used by one thread at a time. It owns its own
// io_context, and every socket operation runs asynchronously on it with a
// deadline, so a blocking call can still time out; the caller only ever
// sees synchronous calls.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "net/http_client.h"

namespace stash::http {

// An OpenSSL client context: peer verification on, system CAs plus an
// optional extra CA file.
class TlsContext {
 public:
  static Result<std::unique_ptr<TlsContext>> Create(const std::string& ca_file,
                                                    const std::string& ca_pem = "");
  // Presents this certificate chain and key to servers that ask for one.
  Status UseClientCertificate(const std::string& cert_pem, const std::string& key_pem);
  ~TlsContext();
  void* native() const;  // boost::asio::ssl::context*

 private:
  TlsContext();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class Connection {
 public:
  // Resolves, connects and (with `tls`) handshakes within connect_timeout.
  static Result<std::unique_ptr<Connection>> Open(const Url& origin, TlsContext* tls,
                                                  const HttpOptions& options);
  virtual ~Connection() = default;

  // Writes the request and reads the whole response. Any error leaves the
  // connection unusable.
  virtual Result<HttpResponse> RoundTrip(const HttpRequest& request) = 0;

  // Writes the request and hands the response body to `on_data` as it
  // arrives, for long-lived answers such as Kubernetes watches. `head` gets
  // the status and headers first; a non-2xx body is collected in head->body
  // instead. Returns once the body ends, `on_data` returns false or `cancel`
  // becomes true (both Ok), or nothing arrives for idle_timeout (kIO). The
  // connection is not reusable afterwards.
  virtual Status Stream(const HttpRequest& request, HttpResponse* head, const BodySink& on_data,
                        const std::atomic<bool>* cancel) = 0;

  // The server agreed to keep the connection open and nothing is pending.
  virtual bool reusable() const = 0;
  // The last RoundTrip failed before a single response byte arrived: on a
  // pooled connection this means the server had already closed it.
  virtual bool failed_before_response() const = 0;

  std::chrono::steady_clock::time_point idle_since;
};

}  // namespace stash::http
