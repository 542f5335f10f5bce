#include "net/connection.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "base/string_util.h"

namespace stash::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using std::chrono::milliseconds;

// Far above any repository file; only a guard against a runaway peer.
constexpr uint64_t kMaxBody = uint64_t{1} << 34;
constexpr uint32_t kMaxHeader = 64 * 1024;
// Beast reads at most the buffer's free capacity (at least 512 bytes) per
// read_some, and the parser empties the buffer into the body each time, so
// a buffer left at its first small size reads a large body some 500 bytes
// per system call. Room for 64 KiB makes each read take what has arrived.
constexpr size_t kReadBuffer = 64 * 1024;
// Bodies of this size or more are read straight into their buffer (ReadBody).
constexpr uint64_t kDirectBody = kReadBuffer;
// A file body is read and sent this much at a time.
constexpr size_t kFilePiece = 256 * 1024;

using RequestMessage = bhttp::request<bhttp::span_body<const char>>;
using ResponseParser = bhttp::response_parser<bhttp::vector_body<uint8_t>>;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A file body must hold the bytes it promises: a shorter one is the
// caller's mistake, not a network failure worth retrying.
Status CheckFileBody(const HttpRequest::FileBody& file) {
  if (file.fd < 0) return Status::Ok();
  struct stat st;
  if (::fstat(file.fd, &st) != 0) return Invalid(std::string("request body file: ") + std::strerror(errno));
  if (static_cast<uint64_t>(st.st_size) < file.size) {
    return Invalid("request body file holds " + std::to_string(st.st_size) + " bytes, not " +
                   std::to_string(file.size));
  }
  return Status::Ok();
}

// Runs `ioc` until the operation just started completes (its handler sets
// `done`) or `timeout` passes; then `cancel` aborts it and the outcome is
// timed_out. This is what gives blocking calls a deadline.
template <class Cancel>
error_code Await(asio::io_context& ioc, milliseconds timeout, const bool& done,
                 const error_code& ec, Cancel cancel) {
  ioc.restart();
  ioc.run_for(timeout);
  if (done) return ec;
  cancel();
  ioc.restart();
  ioc.run();  // lets the aborted handler finish before its captures go away
  return asio::error::timed_out;
}

// Like Await, but also gives up when `stop` turns true, looking every
// 200 ms: a streamed read may rightly wait long for its next byte.
template <class Cancel>
error_code AwaitOrStop(asio::io_context& ioc, milliseconds timeout, const bool& done,
                       const error_code& ec, Cancel cancel, const std::atomic<bool>* stop) {
  if (!stop) return Await(ioc, timeout, done, ec, cancel);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  ioc.restart();
  while (!done && !stop->load() && std::chrono::steady_clock::now() < deadline) {
    ioc.run_for(std::min<milliseconds>(milliseconds(200), timeout));
  }
  if (done) return ec;
  cancel();
  ioc.restart();
  ioc.run();
  return stop->load() ? asio::error::operation_aborted : asio::error::timed_out;
}

std::string Describe(const error_code& ec) {
  if (ec == asio::error::timed_out) return "timed out";
  if (ec == bhttp::error::end_of_stream || ec == asio::error::eof) {
    return "connection closed by the server";
  }
  return ec.message();
}

// The HTTP exchange, the same for plain and TLS streams.
template <class Socket>
class StreamConnection : public Connection {
 public:
  template <class... Args>
  StreamConnection(const Url& origin, const HttpOptions& options, Args&&... args)
      : stream_(ioc_, std::forward<Args>(args)...),
        host_(origin.HostHeader()),
        connect_timeout_(options.connect_timeout),
        idle_timeout_(options.idle_timeout) {
    buffer_.reserve(kReadBuffer);
  }

  Status Connect(const Url& origin);
  Status Handshake(const std::string& host);
  Result<HttpResponse> RoundTrip(const HttpRequest& request) override;
  Status Stream(const HttpRequest& request, HttpResponse* head, const BodySink& on_data,
                const std::atomic<bool>* cancel) override;
  bool reusable() const override { return reusable_; }
  bool failed_before_response() const override { return !got_bytes_; }

 private:
  // Starts `start(handler)` and waits up to `timeout` for it; `cancel`
  // aborts it when time is up.
  template <class Start, class Cancel>
  error_code RunOr(milliseconds timeout, Start start, Cancel cancel) {
    bool done = false;
    error_code ec;
    start([&](error_code e, auto&&...) {
      ec = e;
      done = true;
    });
    return Await(ioc_, timeout, done, ec, cancel);
  }
  // The same for socket operations, which a timeout aborts by closing;
  // `stop` (may be null) aborts them too.
  template <class Start>
  error_code Run(milliseconds timeout, Start start, const std::atomic<bool>* stop = nullptr) {
    bool done = false;
    error_code ec;
    start([&](error_code e, auto&&...) {
      ec = e;
      done = true;
    });
    return AwaitOrStop(ioc_, timeout, done, ec, [this] {
      error_code ignored;
      beast::get_lowest_layer(stream_).socket().close(ignored);
    }, stop);
  }
  RequestMessage Message(const HttpRequest& request, bhttp::verb verb) const;
  void CopyHead(const bhttp::response_header<>& msg, HttpResponse* out) const;
  error_code Write(RequestMessage& msg, const HttpRequest::FileBody& file);
  error_code WriteFile(const HttpRequest::FileBody& file);
  Result<HttpResponse> Read(bool head, Bytes* reuse);
  error_code ReadBody(uint64_t length, Bytes& body);

  asio::io_context ioc_;  // declared first: the stream is bound to it
  Socket stream_;
  beast::flat_buffer buffer_;
  std::string host_;  // "host[:port]": the Host header, and the server in messages
  milliseconds connect_timeout_;
  milliseconds idle_timeout_;
  bool reusable_ = false;
  bool got_bytes_ = false;
};

template <class Socket>
Status StreamConnection<Socket>::Connect(const Url& origin) {
  // RFC 6761: names under .localhost are loopback names; resolving them
  // here spares test setups and local emulators an /etc/hosts entry.
  std::string lookup = EndsWith(origin.host, ".localhost") ? "localhost" : origin.host;
  tcp::resolver resolver(ioc_);
  tcp::resolver::results_type endpoints;
  auto resolve = [&](auto handler) {
    resolver.async_resolve(lookup, std::to_string(origin.port),
                           [&endpoints, handler](error_code e, tcp::resolver::results_type r) {
                             endpoints = std::move(r);
                             handler(e);
                           });
  };
  error_code ec = RunOr(connect_timeout_, resolve, [&] { resolver.cancel(); });
  if (ec) return IOError("resolve " + origin.host + ": " + Describe(ec));
  auto& socket_layer = beast::get_lowest_layer(stream_);
  ec = Run(connect_timeout_, [&](auto handler) {
    socket_layer.async_connect(endpoints, handler);
  });
  if (ec) return IOError("connect to " + host_ + ": " + Describe(ec));
  socket_layer.socket().set_option(tcp::no_delay(true), ec);
  return Status::Ok();
}

template <class Socket>
error_code StreamConnection<Socket>::Write(RequestMessage& msg, const HttpRequest::FileBody& file) {
  bhttp::request_serializer<bhttp::span_body<const char>> serializer(msg);
  if (file.fd >= 0) {
    error_code ec = Run(idle_timeout_, [&](auto handler) {
      bhttp::async_write_header(stream_, serializer, handler);
    });
    return ec ? ec : WriteFile(file);
  }
  while (!serializer.is_done()) {
    error_code ec = Run(idle_timeout_, [&](auto handler) {
      bhttp::async_write_some(stream_, serializer, handler);
    });
    if (ec) return ec;
  }
  return {};
}

template <class Socket>
error_code StreamConnection<Socket>::WriteFile(const HttpRequest::FileBody& file) {
  thread_local std::unique_ptr<char[]> piece(new char[kFilePiece]);
  for (uint64_t sent = 0; sent < file.size;) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kFilePiece, file.size - sent));
    ssize_t n = ::pread(file.fd, piece.get(), want, static_cast<off_t>(sent));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // The server waits for the rest: hang up, so that no answer is awaited.
      error_code why = n < 0 ? error_code(errno, boost::system::system_category())
                             : make_error_code(boost::system::errc::io_error);
      error_code ignored;
      beast::get_lowest_layer(stream_).socket().close(ignored);
      return why;
    }
    error_code ec = Run(idle_timeout_, [&](auto handler) {
      asio::async_write(stream_, asio::buffer(piece.get(), static_cast<size_t>(n)), handler);
    });
    if (ec) return ec;
    sent += static_cast<uint64_t>(n);
  }
  return {};
}

template <class Socket>
Result<HttpResponse> StreamConnection<Socket>::Read(bool head, Bytes* reuse) {
  // The caller's buffer stays aside, its size too, until the header says
  // which way the body is read.
  Bytes kept;
  if (reuse) kept = std::move(*reuse);
  ResponseParser parser;
  parser.body_limit(kMaxBody);
  parser.header_limit(kMaxHeader);
  if (head) parser.skip(true);  // a HEAD answer announces a body it does not send
  size_t got = 0;
  error_code ec = Run(idle_timeout_, [&](auto handler) {
    bhttp::async_read_header(stream_, buffer_, parser, [&got, handler](error_code e, size_t n) {
      got = n;
      handler(e);
    });
  });
  got_bytes_ = got > 0 || buffer_.size() > 0;
  std::optional<uint64_t> length;
  if (!ec && !parser.is_done() && !parser.chunked() && parser.content_length()) {
    length = *parser.content_length();
  }
  if (length && *length >= kDirectBody && *length <= kMaxBody) {
    ec = ReadBody(*length, kept);
  } else {
    kept.clear();  // what is read is appended
    parser.get().body() = std::move(kept);
    while (!ec && !parser.is_done()) {
      ec = Run(idle_timeout_, [&](auto handler) {
        bhttp::async_read_some(stream_, buffer_, parser, handler);
      });
    }
    kept = std::move(parser.get().body());
  }
  if (ec) return IOError("reading the response from " + host_ + ": " + Describe(ec));
  HttpResponse out;
  CopyHead(parser.get().base(), &out);
  out.body = std::move(kept);
  reusable_ = parser.get().keep_alive();
  return out;
}

// The parser would copy the body out of the read buffer into a vector
// zero-filled as it grows; a large body is read straight into `body`
// instead, which keeps its pages (and its size, so no zero-fill) when the
// caller reuses one buffer for many reads.
template <class Socket>
error_code StreamConnection<Socket>::ReadBody(uint64_t length, Bytes& body) {
  body.resize(length);
  size_t have = std::min<size_t>(buffer_.size(), length);
  asio::buffer_copy(asio::buffer(body.data(), have), buffer_.data());
  buffer_.consume(have);
  while (have < length) {
    size_t n = 0;
    error_code ec = Run(idle_timeout_, [&](auto handler) {
      stream_.async_read_some(asio::buffer(body.data() + have, length - have),
                              [&n, handler](error_code e, size_t read) {
                                n = read;
                                handler(e);
                              });
    });
    have += n;
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
      return bhttp::error::partial_message;  // what the parser says of a body cut short
    }
    if (ec) return ec;
  }
  return {};
}

template <class Socket>
Result<HttpResponse> StreamConnection<Socket>::RoundTrip(const HttpRequest& request) {
  reusable_ = false;
  got_bytes_ = false;
  bhttp::verb verb = bhttp::string_to_verb(request.method);
  if (verb == bhttp::verb::unknown) return Invalid("unknown HTTP method " + request.method);
  STASH_RETURN_IF_ERROR(CheckFileBody(request.body_file));
  RequestMessage msg = Message(request, verb);
  error_code wrote = Write(msg, request.body_file);
  if (wrote == asio::error::timed_out) {
    return IOError("sending the request to " + host_ + ": " + Describe(wrote));
  }
  // A server may answer and hang up before taking the whole body (a refused
  // upload): its answer explains more than the broken pipe does.
  auto response = Read(verb == bhttp::verb::head, request.reuse_body);
  if (wrote) {
    reusable_ = false;
    if (!response.ok() || response->status < 400) {
      return IOError("sending the request to " + host_ + ": " + Describe(wrote));
    }
  }
  return response;
}

template <class Socket>
RequestMessage StreamConnection<Socket>::Message(const HttpRequest& request, bhttp::verb verb) const {
  RequestMessage msg(verb, request.target, 11);
  msg.set(bhttp::field::host, host_);
  msg.set(bhttp::field::user_agent, "stash/0.1");
  for (const auto& [name, value] : request.headers) msg.set(name, value);
  msg.body() = {reinterpret_cast<const char*>(request.body.data()), request.body.size()};
  msg.prepare_payload();
  if (request.body_file.fd >= 0) msg.content_length(request.BodySize());  // the file follows the header
  msg.keep_alive(true);
  return msg;
}

template <class Socket>
void StreamConnection<Socket>::CopyHead(const bhttp::response_header<>& msg, HttpResponse* out) const {
  out->status = static_cast<int>(msg.result_int());
  out->reason = std::string(msg.reason());
  out->headers.clear();
  for (const auto& field : msg) {
    auto name = field.name_string();
    out->headers.emplace_back(AsciiLower({name.data(), name.size()}), std::string(field.value()));
  }
}

template <class Socket>
Status StreamConnection<Socket>::Stream(const HttpRequest& request, HttpResponse* head,
                                        const BodySink& on_data, const std::atomic<bool>* cancel) {
  reusable_ = false;
  bhttp::verb verb = bhttp::string_to_verb(request.method);
  if (verb == bhttp::verb::unknown) return Invalid("unknown HTTP method " + request.method);
  STASH_RETURN_IF_ERROR(CheckFileBody(request.body_file));
  RequestMessage msg = Message(request, verb);
  error_code ec = Write(msg, request.body_file);
  if (ec) return IOError("sending the request to " + host_ + ": " + Describe(ec));
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // a watch has no end
  parser.header_limit(kMaxHeader);
  const milliseconds idle = request.idle_timeout.count() > 0 ? request.idle_timeout : idle_timeout_;
  ec = Run(idle, [&](auto handler) { bhttp::async_read_header(stream_, buffer_, parser, handler); },
           cancel);
  if (ec == asio::error::operation_aborted) return Status::Ok();
  if (ec) return IOError("reading the response from " + host_ + ": " + Describe(ec));
  CopyHead(parser.get().base(), head);
  const bool success = head->status >= 200 && head->status < 300;
  char chunk[16384];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    ec = Run(idle, [&](auto handler) { bhttp::async_read_some(stream_, buffer_, parser, handler); }, cancel);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec == asio::error::operation_aborted) return Status::Ok();
    if (ec) return IOError("reading the response from " + host_ + ": " + Describe(ec));
    size_t n = sizeof chunk - parser.get().body().size;
    if (n == 0) continue;
    if (!success) {
      if (head->body.size() < 65536) head->body.insert(head->body.end(), chunk, chunk + n);
    } else if (!on_data(std::string_view(chunk, n))) {
      return Status::Ok();
    }
  }
  return Status::Ok();
}

template <class Socket>
Status StreamConnection<Socket>::Handshake(const std::string& host) {
  SSL* ssl = stream_.native_handle();
  if (IsIpLiteral(host)) {
    // Certificates name IP addresses in their own SAN type, and SNI must
    // not carry an address (RFC 6066).
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, host.c_str());
    SSL_set1_host(ssl, host.c_str());
  }
  error_code ec = Run(connect_timeout_, [&](auto handler) {
    stream_.async_handshake(asio::ssl::stream_base::client, handler);
  });
  if (!ec) return Status::Ok();
  long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    return AuthError("TLS handshake with " + host_ + ": certificate verify failed: " +
                     X509_verify_cert_error_string(verify));
  }
  return IOError("TLS handshake with " + host_ + ": " + Describe(ec));
}

using PlainConnection = StreamConnection<beast::tcp_stream>;
using TlsConnection = StreamConnection<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace

struct TlsContext::Impl {
  asio::ssl::context ctx{asio::ssl::context::tls_client};
};

TlsContext::TlsContext() : impl_(new Impl) {}
TlsContext::~TlsContext() = default;
void* TlsContext::native() const { return &impl_->ctx; }

Result<std::unique_ptr<TlsContext>> TlsContext::Create(const std::string& ca_file,
                                                      const std::string& ca_pem) {
  std::unique_ptr<TlsContext> tls(new TlsContext);
  auto& ctx = tls->impl_->ctx;
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  error_code ec;
  ctx.set_default_verify_paths(ec);
  if (ec) return IOError("cannot load the system CA certificates: " + ec.message());
  if (!ca_file.empty()) {
    ctx.load_verify_file(ca_file, ec);
    if (ec) return Invalid("cannot load CA certificates from " + ca_file + ": " + ec.message());
  }
  if (!ca_pem.empty()) {
    ctx.add_certificate_authority(asio::buffer(ca_pem), ec);
    if (ec) return Invalid("cannot load the CA certificate data: " + ec.message());
  }
  ctx.set_verify_mode(asio::ssl::verify_peer);
  return tls;
}

Status TlsContext::UseClientCertificate(const std::string& cert_pem, const std::string& key_pem) {
  auto& ctx = impl_->ctx;
  error_code ec;
  ctx.use_certificate_chain(asio::buffer(cert_pem), ec);
  if (ec) return Invalid("cannot load the client certificate: " + ec.message());
  ctx.use_private_key(asio::buffer(key_pem), asio::ssl::context::pem, ec);
  if (ec) return Invalid("cannot load the client key: " + ec.message());
  return Status::Ok();
}

Result<std::unique_ptr<Connection>> Connection::Open(const Url& origin, TlsContext* tls,
                                                     const HttpOptions& options) {
  if (!origin.tls()) {
    auto conn = std::make_unique<PlainConnection>(origin, options);
    STASH_RETURN_IF_ERROR(conn->Connect(origin));
    return std::unique_ptr<Connection>(std::move(conn));
  }
  auto* ctx = static_cast<asio::ssl::context*>(tls->native());
  auto conn = std::make_unique<TlsConnection>(origin, options, *ctx);
  STASH_RETURN_IF_ERROR(conn->Connect(origin));
  STASH_RETURN_IF_ERROR(conn->Handshake(origin.host));
  return std::unique_ptr<Connection>(std::move(conn));
}

}  // namespace stash::http
