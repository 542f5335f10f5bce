#include "storage/backends/azure_sharedkey.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <vector>

#include "base/string_util.h"
#include "crypto/encoding.h"

namespace stash::http {
namespace {

// The standard headers in the order the string to sign lists them, before
// and after Content-Length (which comes from the body, not a header).
constexpr const char* kBeforeLength[] = {"content-encoding", "content-language"};
constexpr const char* kAfterLength[] = {
    "content-md5", "content-type", "date", "if-modified-since", "if-match", "if-none-match",
    "if-unmodified-since", "range"};

// Trims the value and replaces each run of whitespace with one space.
std::string Unfold(std::string_view v) {
  std::string out;
  bool pending_space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

// The first value of a header (name in lower case), or "".
std::string HeaderValue(const HeaderList& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (AsciiLower(k) == name) return v;
  }
  return "";
}

}  // namespace

std::string SharedKeyCanonicalHeaders(const HeaderList& headers) {
  // std::map sorts by byte value, as the service compares names.
  std::map<std::string, std::string> ms;
  for (const auto& [k, v] : headers) {
    std::string name = AsciiLower(Unfold(k));
    if (!name.starts_with("x-ms-")) continue;
    std::string& joined = ms[name];
    if (!joined.empty()) joined += ',';
    joined += Unfold(v);
  }
  std::string out;
  for (const auto& [k, v] : ms) out += k + ":" + v + "\n";
  return out;
}

std::string SharedKeyCanonicalResource(const std::string& account, const std::string& path,
                                       const HeaderList& query) {
  std::map<std::string, std::vector<std::string>> params;
  for (const auto& [k, v] : query) params[AsciiLower(k)].push_back(v);
  std::string out = "/" + account + (path.empty() ? "/" : path);
  for (auto& [name, values] : params) {
    std::sort(values.begin(), values.end());
    out += "\n" + name + ":";
    for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + values[i];
  }
  return out;
}

std::string SharedKeyStringToSign(const std::string& account, const SharedKeyRequest& request) {
  std::string out = request.method + "\n";
  for (const char* name : kBeforeLength) out += HeaderValue(request.headers, name) + "\n";
  if (request.content_length > 0) out += std::to_string(request.content_length);
  out += "\n";
  for (const char* name : kAfterLength) out += HeaderValue(request.headers, name) + "\n";
  out += SharedKeyCanonicalHeaders(request.headers);
  out += SharedKeyCanonicalResource(account, request.path, request.query);
  return out;
}

std::string SharedKeySignature(ByteView key, std::string_view string_to_sign) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(string_to_sign.data()), string_to_sign.size(),
       mac, &len);
  return Base64Encode(ByteView(mac, len));
}

std::string SharedKeyAuthorization(const std::string& account, ByteView key,
                                   const SharedKeyRequest& request) {
  return "SharedKey " + account + ":" +
         SharedKeySignature(key, SharedKeyStringToSign(account, request));
}

std::string HttpDate(long long unix_seconds) {
  // Spelled out rather than strftime's %a/%b, which follow the locale.
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

}  // namespace stash::http
