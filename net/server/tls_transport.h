// TlsTransport: server-side TLS over a TCP socket with OpenSSL memory BIOs,
// driven from one strand.
//
// Why not Asio's ssl::stream: its engine moves ciphertext through a 17 KiB
// BIO pair, so a large response goes out one TLS record (16 KiB) per socket
// write, each an asynchronous operation with its own completion (and, under
// beast::tcp_stream, its own timer). Here plaintext is encrypted straight
// into one buffer and many records leave in one socket write.
//
// Not thread-safe: every call, and every completion, is on the socket's
// executor (the connection's strand). At most one Read may be pending; a
// Read and a Flush may be pending together. The transport keeps itself
// alive while an operation is pending.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct ssl_ctx_st;
struct ssl_st;
struct bio_st;

namespace stash::server {

class TlsTransport : public std::enable_shared_from_this<TlsTransport> {
 public:
  using Done = std::function<void(boost::system::error_code)>;

  TlsTransport(boost::asio::ip::tcp::socket socket, ssl_ctx_st* ctx);
  ~TlsTransport();
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  // The server side of the handshake.
  void Handshake(Done done);
  // Appends at least one byte of plaintext to `out` (which must outlive the
  // read); net::error::eof when the client closed or sent close_notify.
  void Read(std::string& out, Done done);
  // Encrypts `plaintext` into the outgoing buffer at once (records of up to
  // 16 KiB); nothing is sent until Flush. False after a fatal TLS error.
  bool Encrypt(std::string_view plaintext);
  // Sends everything encrypted so far; `done` once the socket took it all.
  void Flush(Done done);
  // Gives back large ciphertext buffers (a response is done; kept until
  // then, so that its batches reuse them).
  void ReleaseBuffers();
  // Sends close_notify, ends our direction and reads (discarding, at most
  // `max_discard` bytes) until the client closes, so that the answer is not
  // lost to a reset; then closes. The caller bounds it with a timer.
  void Shutdown(size_t max_discard, Done done);
  // Closes the socket at once; pending operations end with an error.
  void Close();

  ssl_st* ssl() const { return ssl_; }
  boost::asio::ip::tcp::socket& socket() { return socket_; }

 private:
  void ContinueHandshake(Done done);
  void ReadSocket(std::function<void(boost::system::error_code)> then);
  void WriteOut();
  void Discard(size_t left, Done done);

  boost::asio::ip::tcp::socket socket_;
  ssl_st* ssl_ = nullptr;
  bio_st* rbio_ = nullptr;  // ciphertext from the client, owned by ssl_
  std::string pending_;     // ciphertext not yet handed to the socket (the write BIO appends here)
  std::string inflight_;    // ciphertext the socket is writing
  bool flushing_ = false;
  std::vector<Done> flush_waiters_;
  std::vector<char> raw_;   // one socket read
};

}  // namespace stash::server
