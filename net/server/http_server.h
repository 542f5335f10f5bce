// HttpServer: HTTPS/1.1 with keep-alive on Boost.Beast and Asio, feeding
// requests to a Handler (router.h).
//
// Defensive limits keep one bad client from hurting the others: a request
// must arrive whole within the read timeout (stalled clients are dropped),
// header fields over the limit get 431 and bodies over theirs 413, a
// connection beyond the limit is closed at once, and a streaming client
// that falls too far behind is disconnected instead of buffering without
// bound. Handlers answer from any thread; each connection's socket is only
// touched on its own strand.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "net/server/http.h"
#include "base/result.h"

struct ssl_ctx_st;

namespace stash::server {

struct ServerOptions {
  std::string bind_address = "0.0.0.0";
  int port = 8443;  // 0 picks a free port
  size_t threads = 2;
  // Beast keeps each field value under 64 KiB and throws beyond; a header
  // limit below that turns an oversized field into a 431, never a throw.
  size_t max_header_bytes = 64 * 1024 - 1;
  size_t max_body_bytes = 3 * 1024 * 1024;
  size_t max_connections = 1024;
  size_t max_stream_backlog = 16 * 1024 * 1024;  // bytes queued for a watch client
  std::chrono::milliseconds read_timeout{30000};  // TLS handshake, or one whole request
  std::chrono::milliseconds idle_timeout{90000};  // keep-alive between requests
  std::chrono::milliseconds write_timeout{60000};
  // The answer to a request the server cannot read (400, 413, 431), before
  // any handler sees it; plain text when unset. An API server answers with
  // its own error document here.
  std::function<Response(int code, const std::string& message)> error_response;
};

class HttpServer {
 public:
  // Takes ownership of `tls`.
  HttpServer(ServerOptions options, ssl_ctx_st* tls, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; returns the port (useful with port 0).
  Result<int> Listen();
  // Starts the network threads and accepting.
  void Start();
  // Stops accepting, closes every connection and joins the threads.
  void Stop();

  size_t connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stash::server
