#include "storage/backends/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>

#include "base/string_util.h"
#include "crypto/encoding.h"
#include "crypto/id.h"
#include "net/url.h"

namespace stash::http {
namespace {

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

// Trims the value and collapses runs of spaces and tabs to one space.
std::string CanonicalValue(std::string_view v) {
  std::string out;
  bool pending_space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

std::string Date(const SigV4Scope& scope) { return scope.amz_date.substr(0, 8); }

std::string CredentialScope(const SigV4Scope& scope) {
  return Date(scope) + "/" + scope.region + "/" + scope.service + "/aws4_request";
}

}  // namespace

std::string CanonicalQuery(const HeaderList& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  for (const auto& [k, v] : query) encoded.emplace_back(UriEncode(k, false), UriEncode(v, false));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [k, v] : encoded) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

std::string CanonicalRequest(const SigV4Request& request, std::string* signed_headers) {
  HeaderList headers;
  for (const auto& [k, v] : request.headers) headers.emplace_back(AsciiLower(k), CanonicalValue(v));
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonical_headers, names;
  for (size_t i = 0; i < headers.size(); ++i) {
    if (i > 0 && headers[i].first == headers[i - 1].first) {
      canonical_headers.back() = ',';  // replace the '\n' of the same name
      canonical_headers += headers[i].second + "\n";
      continue;
    }
    canonical_headers += headers[i].first + ":" + headers[i].second + "\n";
    if (!names.empty()) names += ';';
    names += headers[i].first;
  }
  if (signed_headers) *signed_headers = names;
  return request.method + "\n" + request.canonical_uri + "\n" + CanonicalQuery(request.query) +
         "\n" + canonical_headers + "\n" + names + "\n" + request.payload_hash;
}

std::string StringToSign(const SigV4Scope& scope, const std::string& canonical_request) {
  return "AWS4-HMAC-SHA256\n" + scope.amz_date + "\n" + CredentialScope(scope) + "\n" +
         HexSha256(canonical_request);
}

std::string Signature(const SigV4Credentials& creds, const SigV4Scope& scope,
                      const std::string& string_to_sign) {
  std::string key = Hmac("AWS4" + creds.secret_key, Date(scope));
  key = Hmac(key, scope.region);
  key = Hmac(key, scope.service);
  key = Hmac(key, "aws4_request");
  return HexEncode(AsBytes(Hmac(key, string_to_sign)));
}

std::string Authorization(const SigV4Credentials& creds, const SigV4Scope& scope,
                          const SigV4Request& request) {
  std::string signed_headers;
  std::string canonical = CanonicalRequest(request, &signed_headers);
  return "AWS4-HMAC-SHA256 Credential=" + creds.access_key + "/" + CredentialScope(scope) +
         ", SignedHeaders=" + signed_headers +
         ", Signature=" + Signature(creds, scope, StringToSign(scope, canonical));
}

std::string AmzDate(long long unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string HexSha256(std::string_view data) { return Sha256(AsBytes(data)).Hex(); }

}  // namespace stash::http
