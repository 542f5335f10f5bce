// URLs as the remote backends need them: parsing "http(s)://user:pass@host:
// port/path?query" and the two percent-encodings that servers insist on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace stash::http {

struct Url {
  std::string scheme;    // "http" or "https", lower case
  std::string user;      // percent-decoded; empty if absent
  std::string password;  // percent-decoded
  bool has_password = false;
  std::string host;      // without brackets for IPv6 literals
  uint16_t port = 0;     // the scheme's default port when the URL names none
  std::string path;      // as written (still percent-encoded), "/" at least
  std::string query;     // after '?', as written; empty if absent

  bool tls() const { return scheme == "https"; }
  // "host" or "host:port" when the port is not the scheme's default, with
  // IPv6 literals in brackets: the value of the Host header.
  std::string HostHeader() const;
  // "scheme://host[:port]" with the user info left out, for messages.
  std::string Origin() const;
};

// Parses an absolute http or https URL. Fragments are refused.
Result<Url> ParseUrl(std::string_view text);

// Decodes %XX escapes; kInvalid on a malformed escape.
Result<std::string> PercentDecode(std::string_view text);

// AWS's URI encoding (SigV4 "UriEncode"): every byte except the unreserved
// characters A-Z a-z 0-9 - . _ ~ becomes %XX (upper-case hex); '/' is kept
// when `keep_slash` (object key paths) and encoded otherwise (query values).
std::string UriEncode(std::string_view text, bool keep_slash);

// True for IPv4 dotted quads and IPv6 literals: such hosts get no SNI and
// are verified against the certificate's IP addresses, not its DNS names.
bool IsIpLiteral(std::string_view host);

// Go's path.Clean for '/'-separated keys: no empty or "." segments, ".."
// resolved, no trailing slash; "" stays "".
std::string CleanPath(std::string_view path);

}  // namespace stash::http
