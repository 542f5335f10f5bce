// RequestReader: the bytes a client sends on one connection, turned into
// requests.
//
// HTTP/1.1 framing is Beast's parser, held to the server's header and body
// limits; what follows a complete request (a pipelined one) is kept for the
// next. There is no I/O here: the connection appends what it read and asks
// for the next request, so tests and the fuzz target can split the bytes
// anywhere.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "net/server/http.h"

namespace stash::server {

class RequestReader {
 public:
  enum class Kind {
    kNeedMore,  // read more and call Next again
    kRequest,   // `request` is complete
    kReject,    // answer `status` with `message`, then close
    kGone,      // the client closed before sending anything: nobody to answer
  };
  struct Outcome {
    Kind kind = Kind::kNeedMore;
    Request request;         // kRequest: method, target, path, query, headers, body
    bool keep_alive = true;  // kRequest: the client keeps the connection open
    bool head = false;       // kRequest: a HEAD request (no body in the answer)
    int status = 0;          // kReject: 400, 413 or 431
    std::string message;     // kReject: why
  };

  RequestReader(size_t max_header_bytes, size_t max_body_bytes);
  ~RequestReader();
  RequestReader(const RequestReader&) = delete;
  RequestReader& operator=(const RequestReader&) = delete;

  // Where the connection appends bytes as they arrive.
  std::string& input() { return in_; }

  // The next request from what has arrived. After kRequest, call again for
  // a pipelined one; after kReject or kGone, the reader is spent.
  Outcome Next();

  // The client closed its side: kGone if nothing of a request came, a
  // request whose end is the close, else kReject (truncated).
  Outcome Eof();

 private:
  struct Parser;
  Outcome Finish();
  void Reset();

  size_t max_header_bytes_, max_body_bytes_;
  std::unique_ptr<Parser> parser_;
  std::string in_;    // received; from in_used_ on, not parsed yet
  size_t in_used_ = 0;
};

}  // namespace stash::server
