#include "net/server/request_reader.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <optional>

namespace stash::server {

namespace http = boost::beast::http;
using error_code = boost::system::error_code;

struct RequestReader::Parser {
  std::optional<http::request_parser<http::string_body>> beast;
};

namespace {

RequestReader::Outcome Rejected(int status, std::string message) {
  RequestReader::Outcome out;
  out.kind = RequestReader::Kind::kReject;
  out.status = status;
  out.message = std::move(message);
  return out;
}

RequestReader::Outcome Gone() {
  RequestReader::Outcome out;
  out.kind = RequestReader::Kind::kGone;
  return out;
}

// What a parse error means for the client: an answer, or none (it left).
RequestReader::Outcome FromError(error_code ec) {
  if (ec == http::error::header_limit) return Rejected(431, "request header fields too large");
  if (ec == http::error::body_limit) return Rejected(413, "request body too large");
  if (ec == http::error::end_of_stream) return Gone();
  return Rejected(400, "malformed HTTP request: " + ec.message());
}

}  // namespace

RequestReader::RequestReader(size_t max_header_bytes, size_t max_body_bytes)
    : max_header_bytes_(max_header_bytes), max_body_bytes_(max_body_bytes),
      parser_(std::make_unique<Parser>()) {
  Reset();
}

RequestReader::~RequestReader() = default;

void RequestReader::Reset() {
  auto& p = parser_->beast.emplace();
  p.header_limit(static_cast<std::uint32_t>(std::min<size_t>(max_header_bytes_, UINT32_MAX)));
  p.body_limit(max_body_bytes_);
  p.eager(true);
}

RequestReader::Outcome RequestReader::Next() {
  auto& p = *parser_->beast;
  while (in_used_ < in_.size()) {
    error_code ec;
    size_t n = p.put(boost::asio::buffer(in_.data() + in_used_, in_.size() - in_used_), ec);
    in_used_ += n;
    if (ec == http::error::need_more) break;
    if (ec) return FromError(ec);
    if (p.is_done()) return Finish();
    if (n == 0) break;
  }
  // Keep only what the parser has not taken (it copies what it needs).
  in_.erase(0, in_used_);
  in_used_ = 0;
  return Outcome{};
}

RequestReader::Outcome RequestReader::Eof() {
  auto& p = *parser_->beast;
  if (!p.got_some()) return Gone();
  error_code ec;
  p.put_eof(ec);  // done for a body that ends with the connection, else partial_message (400)
  if (ec) return FromError(ec);
  return p.is_done() ? Finish() : Gone();
}

RequestReader::Outcome RequestReader::Finish() {
  auto msg = parser_->beast->release();
  Reset();
  auto target = ParseTarget(std::string_view(msg.target().data(), msg.target().size()));
  if (!target) return Rejected(400, "malformed request target");
  Outcome out;
  out.kind = Kind::kRequest;
  out.keep_alive = msg.keep_alive();
  out.head = msg.method() == http::verb::head;
  Request& request = out.request;
  request.method = std::string(msg.method_string());
  request.target = std::string(msg.target());
  request.path = std::move(target->first);
  request.query = std::move(target->second);
  for (const auto& field : msg) {
    request.headers.Add(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(msg.body());
  return out;
}

}  // namespace stash::server
