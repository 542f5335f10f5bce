// AWS Signature Version 4 for S3 requests signed in the Authorization header.
//
// The signer sees a request in canonical pieces: the caller builds the path
// and query with UriEncode (url.h) and sends exactly those bytes, so what is
// signed is what goes on the wire. Checked against AWS's published test
// suite and the S3 documentation's examples (test/unit/http_test.cc).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace stash::http {

struct SigV4Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // sent as x-amz-security-token when set
};

struct SigV4Scope {
  std::string region;            // "us-east-1"
  std::string service = "s3";
  std::string amz_date;          // "20150830T123600Z", also the x-amz-date header
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct SigV4Request {
  std::string method;
  std::string canonical_uri;  // encoded path, "/" at least
  HeaderList query;           // raw (decoded) names and values, any order
  HeaderList headers;         // every header to sign, host included
  std::string payload_hash;   // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

// "k1=v1&k2=v2": names and values UriEncoded, sorted by encoded name (then
// value). Also the query string to send, so both sides agree byte for byte.
std::string CanonicalQuery(const HeaderList& query);

// The canonical request and its signed-headers list ("host;x-amz-date").
// Header names are lower-cased and sorted, values trimmed with inner runs
// of spaces collapsed, repeated names joined with ','.
std::string CanonicalRequest(const SigV4Request& request, std::string* signed_headers);

std::string StringToSign(const SigV4Scope& scope, const std::string& canonical_request);

// Hex HMAC-SHA256 of the string to sign under the key derived from the
// secret, date, region and service.
std::string Signature(const SigV4Credentials& creds, const SigV4Scope& scope,
                      const std::string& string_to_sign);

// The complete Authorization header value for `request`.
std::string Authorization(const SigV4Credentials& creds, const SigV4Scope& scope,
                          const SigV4Request& request);

// "20150830T123600Z" for a Unix time in seconds.
std::string AmzDate(long long unix_seconds);

// Lower-case hex SHA-256, the x-amz-content-sha256 of a body.
std::string HexSha256(std::string_view data);

}  // namespace stash::http
