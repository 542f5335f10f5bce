// Requests and responses as the API handlers see them.
//
// These are plain structs, independent of the network code
// (http_server.h), so every handler can be driven by unit tests. A handler
// answers through a Responder: one complete Response, or a chunked stream
// (watch) that it writes to as events happen.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/pieced_text.h"

namespace stash::server {

// Header fields in arrival order; names compare case-insensitively and a
// name may repeat (X-Remote-Group does).
class Headers {
 public:
  void Add(std::string name, std::string value);
  // The first value of `name`, or "".
  std::string Get(std::string_view name) const;
  std::vector<std::string> GetAll(std::string_view name) const;
  bool Has(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// %XX escapes decoded; with `plus_as_space` (query strings) '+' is a space.
// nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_as_space);

// Query parameters of a request target, decoded, in order.
class Query {
 public:
  // nullopt when an escape is malformed.
  static std::optional<Query> Parse(std::string_view raw);
  // The first value of `name`.
  std::optional<std::string> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  std::vector<std::string> GetAll(std::string_view name) const;

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

// What the TLS layer learned about the client certificate, if one was sent.
struct ClientCertificate {
  bool present = false;
  bool verified = false;  // chains to a trusted client CA and allows client auth
  // Chains to the front-proxy (requestheader) CA and allows client auth: only
  // then may X-Remote-* headers name the user. Checked apart from `verified`,
  // since the two CAs grant different things.
  bool front_proxy_verified = false;
  std::string common_name;
  std::vector<std::string> organizations;
  std::string verify_error;  // why it is not verified
};

struct Request {
  std::string method;  // "GET", "DELETE", ...
  std::string target;  // as sent: path and query
  std::string path;    // decoded path
  Query query;
  Headers headers;
  std::string body;
  ClientCertificate client_cert;
  std::string remote_address;  // "ip:port", for logs
};

// Splits `target` into a decoded path and query; nullopt if malformed.
std::optional<std::pair<std::string, Query>> ParseTarget(std::string_view target);

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  Headers headers;
  // The body: `body`, then `pieces` (a large body made of bytes that live
  // elsewhere, sent a piece at a time without being joined first).
  std::string body;
  PiecedText pieces;
  size_t body_size() const { return body.size() + pieces.size(); }
};

// The reason phrase of a status code ("Not Found").
const char* ReasonPhrase(int status);

// A text/plain answer carrying `message`.
Response PlainTextError(int status, const std::string& message);

// A chunked response body written as events happen. Thread-safe.
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  // Queues one chunk; false once the stream is closed: ended, the client
  // went away, or it fell too far behind.
  virtual bool Write(std::string chunk) = 0;
  // Writes the terminating chunk; later writes return false.
  virtual void End() = 0;
  virtual bool closed() const = 0;
};

// How a handler answers. Exactly one of Send or Stream is called, from any
// thread.
class Responder {
 public:
  virtual ~Responder() = default;
  virtual void Send(Response response) = 0;
  // Sends the status line and headers of a chunked response.
  virtual std::shared_ptr<StreamWriter> Stream(int status, std::string content_type,
                                               Headers headers) = 0;
};

using Handler = std::function<void(Request request, std::shared_ptr<Responder> responder)>;

}  // namespace stash::server
