#include "net/server/tls_transport.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <utility>

namespace stash::server {
namespace {

namespace net = boost::asio;
using error_code = boost::system::error_code;

constexpr size_t kSocketRead = 64 * 1024;  // a few records per read
constexpr size_t kPlaintextRead = 16 * 1024;  // one record's worth per SSL_read
// Buffers above this are given back between responses (ReleaseBuffers), so
// an idle keep-alive connection does not hold a large response's ciphertext;
// within one they are reused, since fresh ones cost a page fault per page.
constexpr size_t kKeepCapacity = 64 * 1024;

// The write BIO: appends every record OpenSSL writes to a std::string, so
// any number of records are encrypted before one socket write.
int AppendWrite(BIO* bio, const char* data, size_t n, size_t* written) {
  static_cast<std::string*>(BIO_get_data(bio))->append(data, n);
  *written = n;
  return 1;
}

long AppendCtrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

int AppendCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

const BIO_METHOD* AppendMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "stash TLS output");
    BIO_meth_set_write_ex(m, AppendWrite);
    BIO_meth_set_ctrl(m, AppendCtrl);
    BIO_meth_set_create(m, AppendCreate);
    return m;
  }();
  return method;
}

// The OpenSSL error behind a failed call, as Asio reports TLS errors.
error_code TlsError(int ssl_error) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (ssl_error == SSL_ERROR_ZERO_RETURN) return net::error::eof;
  if (code) return error_code(static_cast<int>(code), net::error::get_ssl_category());
  return net::ssl::error::stream_truncated;
}

void ReleaseIfLarge(std::string& s) {
  if (s.capacity() > kKeepCapacity) std::string().swap(s);
}

}  // namespace

TlsTransport::TlsTransport(net::ip::tcp::socket socket, ssl_ctx_st* ctx)
    : socket_(std::move(socket)), raw_(kSocketRead) {
  ssl_ = SSL_new(ctx);
  if (!ssl_) return;
  rbio_ = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(AppendMethod());
  if (!rbio_ || !wbio) {
    BIO_free(rbio_);
    BIO_free(wbio);
    SSL_free(ssl_);
    ssl_ = nullptr;
    return;
  }
  BIO_set_mem_eof_return(rbio_, -1);  // empty means "want more", not end of file
  BIO_set_data(wbio, &pending_);
  SSL_set_bio(ssl_, rbio_, wbio);
  SSL_set_accept_state(ssl_);
}

TlsTransport::~TlsTransport() {
  if (ssl_) SSL_free(ssl_);
}

void TlsTransport::Handshake(Done done) {
  if (!ssl_) return done(net::error::no_memory);
  ContinueHandshake(std::move(done));
}

void TlsTransport::ContinueHandshake(Done done) {
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_);
  if (r == 1) return Flush(std::move(done));  // our last flight (and TLS 1.3 tickets)
  int err = SSL_get_error(ssl_, r);
  if (err != SSL_ERROR_WANT_READ) return done(TlsError(err));
  // Our flight goes out while we wait for the client's next one; a failed
  // write shows up as a failed read.
  if (!pending_.empty()) Flush([](error_code) {});
  ReadSocket([self = shared_from_this(), done = std::move(done)](error_code ec) mutable {
    if (ec) return done(ec);
    self->ContinueHandshake(std::move(done));
  });
}

void TlsTransport::ReadSocket(std::function<void(error_code)> then) {
  socket_.async_read_some(net::buffer(raw_), [self = shared_from_this(), then = std::move(then)](
                                                 error_code ec, size_t n) {
    if (!ec && BIO_write(self->rbio_, self->raw_.data(), static_cast<int>(n)) != static_cast<int>(n)) {
      ec = net::error::no_memory;
    }
    then(ec);
  });
}

void TlsTransport::Read(std::string& out, Done done) {
  if (!ssl_) return done(net::error::no_memory);
  ERR_clear_error();
  size_t before = out.size();
  int err = SSL_ERROR_NONE;
  // Everything already decryptable, one record at a time.
  while (true) {
    size_t at = out.size(), n = 0;
    out.resize(at + kPlaintextRead);
    int r = SSL_read_ex(ssl_, out.data() + at, kPlaintextRead, &n);
    out.resize(at + n);
    if (r != 1) {
      err = SSL_get_error(ssl_, r);
      break;
    }
  }
  if (out.size() > before) return done({});
  if (err != SSL_ERROR_WANT_READ) return done(TlsError(err));
  // Reading may have produced records to send (a key update's answer).
  if (!pending_.empty()) Flush([](error_code) {});
  std::string* target = &out;
  ReadSocket([self = shared_from_this(), target, done = std::move(done)](error_code ec) mutable {
    if (ec) return done(ec);
    self->Read(*target, std::move(done));
  });
}

bool TlsTransport::Encrypt(std::string_view plaintext) {
  if (!ssl_) return false;
  if (plaintext.empty()) return true;
  // Records add at most a header, a tag and padding-free type byte each.
  pending_.reserve(pending_.size() + plaintext.size() + (plaintext.size() / 16384 + 1) * 64);
  ERR_clear_error();
  size_t written = 0;
  int r = SSL_write_ex(ssl_, plaintext.data(), plaintext.size(), &written);
  if (r != 1 || written != plaintext.size()) {
    ERR_clear_error();
    return false;
  }
  return true;
}

void TlsTransport::Flush(Done done) {
  if (flushing_) {
    flush_waiters_.push_back(std::move(done));
    return;
  }
  if (pending_.empty()) return done({});
  flushing_ = true;
  flush_waiters_.push_back(std::move(done));
  WriteOut();
}

void TlsTransport::WriteOut() {
  inflight_.swap(pending_);
  pending_.clear();
  net::async_write(socket_, net::buffer(inflight_), [self = shared_from_this()](error_code ec, size_t) {
    if (!ec && !self->pending_.empty()) return self->WriteOut();
    self->flushing_ = false;
    self->inflight_.clear();
    auto waiters = std::move(self->flush_waiters_);
    self->flush_waiters_.clear();
    for (auto& w : waiters) w(ec);
  });
}

void TlsTransport::ReleaseBuffers() {
  if (flushing_) return;
  ReleaseIfLarge(inflight_);
  ReleaseIfLarge(pending_);
}

void TlsTransport::Shutdown(size_t max_discard, Done done) {
  if (ssl_) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // queues close_notify; the client's own is not awaited
    ERR_clear_error();
  }
  Flush([self = shared_from_this(), max_discard, done = std::move(done)](error_code ec) mutable {
    if (ec) return done(ec);
    error_code ignored;
    self->socket_.shutdown(net::ip::tcp::socket::shutdown_send, ignored);
    self->Discard(max_discard, std::move(done));
  });
}

void TlsTransport::Discard(size_t left, Done done) {
  socket_.async_read_some(net::buffer(raw_), [self = shared_from_this(), left, done = std::move(done)](
                                                 error_code ec, size_t n) mutable {
    if (ec || n >= left) return done(ec);
    self->Discard(left - n, std::move(done));
  });
}

void TlsTransport::Close() {
  error_code ignored;
  socket_.shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace stash::server
