#include "net/server/http_server.h"

#include <openssl/ssl.h>

#include <atomic>
#include <cstdio>
#include <boost/asio.hpp>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "net/server/outgoing_queue.h"
#include "net/server/request_reader.h"
#include "net/server/tls.h"
#include "net/server/tls_transport.h"

namespace stash::server {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

class Connection;

// What connections share: options, the handler, and the live set.
struct Shared {
  ServerOptions options;
  Handler handler;
  std::mutex mu;
  std::set<std::weak_ptr<Connection>, std::owner_less<std::weak_ptr<Connection>>> live;
  std::atomic<size_t> count{0};
};

// The status line and header fields; the body goes out after them as is.
std::string Head(const Response& r, bool close) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + ReasonPhrase(r.status) + "\r\n";
  out += "Content-Type: " + r.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(r.body_size()) + "\r\n";
  bool has_nosniff = r.headers.Has("X-Content-Type-Options");
  if (!has_nosniff) out += "X-Content-Type-Options: nosniff\r\n";
  for (const auto& [k, v] : r.headers.fields()) out += k + ": " + v + "\r\n";
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  return out;
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, ssl_ctx_st* tls, std::shared_ptr<Shared> shared)
      : executor_(socket.get_executor()), read_timer_(executor_), write_timer_(executor_),
        shared_(std::move(shared)),
        reader_(shared_->options.max_header_bytes, shared_->options.max_body_bytes) {
    error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    tls_ = std::make_shared<TlsTransport>(std::move(socket), tls);
  }

  ~Connection() { --shared_->count; }

  void Start() {
    net::dispatch(executor_, [self = shared_from_this()] { self->Handshake(); });
  }

  // Any thread.
  void Send(Response response) {
    net::post(executor_, [self = shared_from_this(), r = std::move(response)]() mutable {
      self->WriteResponse(std::move(r));
    });
  }
  void BeginStream(int status, std::string content_type, Headers headers);
  bool QueueChunk(std::string chunk);
  void EndStream();
  // Hangs up at once (server stop, a client too far behind, a request no
  // handler answered). No TLS goodbye.
  void Close() {
    net::post(executor_, [self = shared_from_this()] { self->Abort(); });
  }
  bool closed() const { return closed_; }

 private:
  void Handshake() {
    ArmRead(shared_->options.read_timeout);
    tls_->Handshake([self = shared_from_this()](error_code ec) { self->OnHandshake(ec); });
  }

  void OnHandshake(error_code ec) {
    if (ec || closed_) return Abort();
    cert_ = ReadClientCertificate(tls_->ssl());
    ReadRequest(shared_->options.read_timeout);
  }

  // A read or write must be over by its deadline, else the connection is
  // dropped. The generations tell a stale expiry from the current one.
  void ArmRead(std::chrono::milliseconds timeout) { Arm(read_timer_, ++read_generation_, timeout, true); }
  void ArmWrite(std::chrono::milliseconds timeout) { Arm(write_timer_, ++write_generation_, timeout, false); }
  void Arm(net::steady_timer& timer, uint64_t generation, std::chrono::milliseconds timeout, bool read) {
    timer.expires_after(timeout);
    timer.async_wait([self = shared_from_this(), generation, read](error_code ec) {
      if (ec) return;
      if (generation == (read ? self->read_generation_ : self->write_generation_)) self->Abort();
    });
  }
  void DisarmRead() {
    ++read_generation_;
    read_timer_.cancel();
  }
  void DisarmWrite() {
    ++write_generation_;
    write_timer_.cancel();
  }

  void ReadRequest(std::chrono::milliseconds timeout) {
    ArmRead(timeout);
    Parse();
  }

  // Takes the next request from what has arrived (a pipelined request may
  // already be here), reading more while it needs more.
  void Parse() {
    if (closed_) return;
    auto next = reader_.Next();
    if (next.kind != RequestReader::Kind::kNeedMore) return OnRead(std::move(next));
    tls_->Read(reader_.input(), [self = shared_from_this()](error_code ec) {
      if (self->closed_) return;
      if (ec == net::error::eof) return self->OnRead(self->reader_.Eof());
      // The client left, timed out or broke TLS: nobody to answer.
      if (ec) return self->Abort();
      self->Parse();
    });
  }

  void OnRead(RequestReader::Outcome next) {
    if (closed_) return;
    switch (next.kind) {
      case RequestReader::Kind::kRequest:
        DisarmRead();
        return Dispatch(std::move(next));
      case RequestReader::Kind::kReject:
        return Reject(next.status, next.message);
      case RequestReader::Kind::kGone:
      case RequestReader::Kind::kNeedMore:
        return Abort();
    }
  }

  void Dispatch(RequestReader::Outcome next);

  // Answers a request that cannot be read any further, then closes.
  void Reject(int code, const std::string& message) {
    DisarmRead();
    keep_alive_ = false;
    head_ = false;
    const auto& error_response = shared_->options.error_response;
    WriteResponse(error_response ? error_response(code, message) : PlainTextError(code, message));
    after_write_ = AfterWrite::kDrain;
  }

  // Reads and discards what the client is still sending (the rest of an
  // oversized request) for a while before closing: closing with unread
  // input resets the connection, and the client would lose our answer.
  void Drain() {
    ArmRead(std::chrono::milliseconds(2000));
    tls_->Read(scratch_, [self = shared_from_this()](error_code ec) {
      self->drained_ += self->scratch_.size();
      self->scratch_.clear();
      if (ec || self->drained_ > kMaxDrain) return self->Abort();
      self->Drain();
    });
  }
  static constexpr size_t kMaxDrain = 64 * 1024 * 1024;

  void WriteResponse(Response r) {
    if (closed_ || responded_) return;
    responded_ = true;
    Write(Head(r, !keep_alive_));
    if (!head_ && !r.body.empty()) Write(std::move(r.body));
    if (!head_ && !r.pieces.empty()) Write(std::move(r.pieces));
    after_write_ = keep_alive_ ? AfterWrite::kRead : AfterWrite::kClose;
  }

  // `counted`: already added to queued_bytes_ (chunks count when queued).
  void Write(std::string bytes, bool counted = false) {
    if (closed_) return;
    if (!counted) queued_bytes_ += bytes.size();
    out_.Push(std::move(bytes));
    if (!writing_) WriteNext();
  }
  void Write(PiecedText body) {
    if (closed_) return;
    queued_bytes_ += body.size();
    out_.Push(std::move(body));
    if (!writing_) WriteNext();
  }

  // Encrypts up to kWriteBatch of what is queued (a large body in slices)
  // and sends it in one socket write.
  void WriteNext() {
    if (closed_) return;
    if (out_.empty()) {
      out_.Clear();
      writing_ = false;
      DisarmWrite();
      OnDrained();
      return;
    }
    writing_ = true;
    size_t taken = 0;
    while (!out_.empty() && taken < kWriteBatch) {
      std::string_view plaintext = out_.Next(kWriteBatch - taken);
      if (!tls_->Encrypt(plaintext)) return Abort();
      taken += plaintext.size();
    }
    // While a stream's close-watching read is pending this arms only the
    // write deadline.
    ArmWrite(shared_->options.write_timeout);
    tls_->Flush([self = shared_from_this(), taken](error_code ec) {
      self->queued_bytes_ -= taken;
      if (ec) return self->Abort();
      self->WriteNext();
    });
  }
  static constexpr size_t kWriteBatch = 256 * 1024;

  void OnDrained() {
    if (after_write_ == AfterWrite::kRead) {
      after_write_ = AfterWrite::kNothing;
      responded_ = false;
      tls_->ReleaseBuffers();
      ReadRequest(shared_->options.idle_timeout);
    } else if (after_write_ == AfterWrite::kClose) {
      Shutdown();
    } else if (after_write_ == AfterWrite::kDrain) {
      after_write_ = AfterWrite::kNothing;
      Drain();
    }
  }

  // Reading while a stream is written tells us when the client leaves.
  void WatchForClose() {
    tls_->Read(scratch_, [self = shared_from_this()](error_code) { self->Abort(); });
  }

  // close_notify, then the client's end (bounded in time and bytes).
  void Shutdown() {
    if (closed_) return;
    // A stream has a read pending, and the shutdown would read too: end it
    // by closing; its terminating chunk already told the client.
    if (streaming_) return Abort();
    closed_ = true;
    DisarmRead();
    ArmWrite(std::chrono::milliseconds(2000));
    tls_->Shutdown(kMaxDrain, [self = shared_from_this()](error_code) { self->Abort(); });
  }

  void Abort() {
    closed_ = true;
    DisarmRead();
    DisarmWrite();
    tls_->Close();
  }

  enum class AfterWrite { kNothing, kRead, kClose, kDrain };

  net::any_io_executor executor_;  // the connection's strand
  net::steady_timer read_timer_, write_timer_;
  uint64_t read_generation_ = 0, write_generation_ = 0;
  std::shared_ptr<Shared> shared_;
  std::shared_ptr<TlsTransport> tls_;
  std::string remote_;
  RequestReader reader_;
  std::string scratch_;  // plaintext read only to be dropped
  ClientCertificate cert_;
  OutgoingQueue out_;
  std::atomic<size_t> queued_bytes_{0};
  std::atomic<bool> closed_{false};
  bool writing_ = false, keep_alive_ = true, head_ = false, responded_ = false, streaming_ = false;
  AfterWrite after_write_ = AfterWrite::kNothing;
  size_t drained_ = 0;
};

// A chunked body on a connection; Write may be called from any thread.
class ChunkWriter : public StreamWriter {
 public:
  explicit ChunkWriter(std::shared_ptr<Connection> conn) : conn_(std::move(conn)) {}
  bool Write(std::string chunk) override {
    if (closed()) return false;
    if (!conn_->QueueChunk(std::move(chunk))) {
      ended_ = true;
      conn_->Close();
      return false;
    }
    return true;
  }
  void End() override {
    if (ended_.exchange(true)) return;
    conn_->EndStream();
  }
  bool closed() const override { return ended_ || conn_->closed(); }

 private:
  std::shared_ptr<Connection> conn_;
  std::atomic<bool> ended_{false};
};

class ConnectionResponder : public Responder {
 public:
  explicit ConnectionResponder(std::shared_ptr<Connection> conn) : conn_(std::move(conn)) {}
  ~ConnectionResponder() override {
    // A handler that never answered (a job dropped at shutdown): hang up.
    if (!used_) conn_->Close();
  }
  void Send(Response response) override {
    if (used_.exchange(true)) return;
    conn_->Send(std::move(response));
  }
  std::shared_ptr<StreamWriter> Stream(int status, std::string content_type, Headers headers) override {
    used_ = true;
    conn_->BeginStream(status, std::move(content_type), std::move(headers));
    return std::make_shared<ChunkWriter>(conn_);
  }

 private:
  std::shared_ptr<Connection> conn_;
  std::atomic<bool> used_{false};
};

void Connection::Dispatch(RequestReader::Outcome next) {
  keep_alive_ = next.keep_alive;
  head_ = next.head;
  Request request = std::move(next.request);
  request.client_cert = cert_;
  request.remote_address = remote_;
  shared_->handler(std::move(request), std::make_shared<ConnectionResponder>(shared_from_this()));
}

void Connection::BeginStream(int status, std::string content_type, Headers headers) {
  net::post(executor_, [self = shared_from_this(), status, ct = std::move(content_type),
                                     h = std::move(headers)] {
    if (self->closed_ || self->responded_) return;
    self->responded_ = true;
    self->streaming_ = true;
    std::string head = "HTTP/1.1 " + std::to_string(status) + " " + ReasonPhrase(status) + "\r\n";
    head += "Content-Type: " + ct + "\r\nTransfer-Encoding: chunked\r\nCache-Control: no-cache, private\r\n";
    for (const auto& [k, v] : h.fields()) head += k + ": " + v + "\r\n";
    head += "Connection: close\r\n\r\n";
    // The close-watching read starts first, without a timeout: a watch may
    // be quiet for as long as it likes.
    self->DisarmRead();
    self->DisarmWrite();
    self->WatchForClose();
    self->Write(std::move(head));
  });
}

bool Connection::QueueChunk(std::string chunk) {
  if (closed_) return false;
  if (queued_bytes_ + chunk.size() > shared_->options.max_stream_backlog) return false;
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
  std::string framed = size + chunk + "\r\n";
  queued_bytes_ += framed.size();
  net::post(executor_, [self = shared_from_this(), f = std::move(framed)]() mutable {
    self->Write(std::move(f), true);
  });
  return true;
}

void Connection::EndStream() {
  net::post(executor_, [self = shared_from_this()] {
    self->Write("0\r\n\r\n");
    self->after_write_ = AfterWrite::kClose;
    if (!self->writing_) self->Shutdown();
  });
}

}  // namespace

struct HttpServer::Impl {
  net::io_context ioc;
  std::unique_ptr<ssl_ctx_st, void (*)(ssl_ctx_st*)> tls;
  tcp::acceptor acceptor{ioc};
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};

  Impl(ServerOptions options, ssl_ctx_st* ctx, Handler handler)
      : ioc(static_cast<int>(options.threads)), tls(ctx, SSL_CTX_free) {
    shared->options = std::move(options);
    shared->handler = std::move(handler);
  }

  // Runs the loop until stopped. An exception escaping a handler (Beast and
  // Asio report some failures by throwing) ends only that connection: its
  // handler, and with it the connection, is gone; the loop goes on.
  void Run() {
    while (!stopping) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "http: a connection failed: %s\n", e.what());
      }
    }
  }

  void Accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](error_code ec, tcp::socket socket) {
      if (stopping) return;
      if (!ec) Admit(std::move(socket));
      Accept();
    });
  }

  void Admit(tcp::socket socket) {
    if (shared->count >= shared->options.max_connections) {
      error_code ignored;
      socket.close(ignored);
      return;
    }
    ++shared->count;
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto conn = std::make_shared<Connection>(std::move(socket), tls.get(), shared);
    {
      std::lock_guard<std::mutex> lock(shared->mu);
      std::erase_if(shared->live, [](const auto& w) { return w.expired(); });
      shared->live.insert(conn);
    }
    conn->Start();
  }
};

HttpServer::HttpServer(ServerOptions options, ssl_ctx_st* tls, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), tls, std::move(handler))) {}

HttpServer::~HttpServer() { Stop(); }

Result<int> HttpServer::Listen() {
  error_code ec;
  const ServerOptions& o = impl_->shared->options;
  auto address = net::ip::make_address(o.bind_address, ec);
  if (ec) return Invalid("invalid --bind-address \"" + o.bind_address + "\"");
  tcp::endpoint endpoint(address, static_cast<unsigned short>(o.port));
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return IOError("cannot listen on " + o.bind_address + ":" + std::to_string(o.port) + ": " + ec.message());
  }
  return static_cast<int>(a.local_endpoint().port());
}

void HttpServer::Start() {
  impl_->Accept();
  for (size_t i = 0; i < impl_->shared->options.threads; ++i) {
    impl_->threads.emplace_back([this] { impl_->Run(); });
  }
}

void HttpServer::Stop() {
  if (impl_->stopping.exchange(true)) return;
  net::post(impl_->ioc, [this] {
    error_code ignored;
    impl_->acceptor.close(ignored);
  });
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard<std::mutex> lock(impl_->shared->mu);
    for (const auto& w : impl_->shared->live) {
      if (auto c = w.lock()) live.push_back(std::move(c));
    }
  }
  for (auto& c : live) c->Close();
  live.clear();
  // Give TLS shutdowns a moment, then stop the loop.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

size_t HttpServer::connections() const { return impl_->shared->count; }

}  // namespace stash::server
