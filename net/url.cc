#include "net/url.h"

#include <arpa/inet.h>

#include <charconv>
#include <vector>

#include "base/string_util.h"

namespace stash::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~';
}

uint16_t DefaultPort(const std::string& scheme) { return scheme == "https" ? 443 : 80; }

// Splits "host[:port]" (IPv6 literals in brackets) into url.host/url.port.
Status ParseHostPort(std::string_view text, Url& url) {
  std::string_view host = text, port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return Invalid("unterminated IPv6 address");
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return Invalid("junk after IPv6 address");
      port = rest.substr(1);
    }
  } else if (size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) return Invalid("no host name");
  url.host = AsciiLower(host);
  url.port = DefaultPort(url.scheme);
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return Invalid("bad port \"" + std::string(port) + "\"");
    }
    url.port = static_cast<uint16_t>(value);
  }
  return Status::Ok();
}

Status ParseUserInfo(std::string_view info, Url& url) {
  size_t colon = info.find(':');
  STASH_ASSIGN_OR_RETURN(url.user, PercentDecode(info.substr(0, colon)));
  if (colon != std::string_view::npos) {
    STASH_ASSIGN_OR_RETURN(url.password, PercentDecode(info.substr(colon + 1)));
    url.has_password = true;
  }
  return Status::Ok();
}

}  // namespace

std::string Url::HostHeader() const {
  std::string h = host;
  if (host.find(':') != std::string::npos) h = std::string("[").append(host).append("]");
  if (port != DefaultPort(scheme)) h.append(":").append(std::to_string(port));
  return h;
}

std::string Url::Origin() const { return scheme + "://" + HostHeader(); }

Result<Url> ParseUrl(std::string_view text) {
  Url url;
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) return Invalid("not an http(s) URL: " + std::string(text));
  url.scheme = AsciiLower(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https") {
    return Invalid("unsupported URL scheme \"" + url.scheme + "\"");
  }
  if (text.find('#') != std::string_view::npos) return Invalid("URL has a fragment");
  std::string_view rest = text.substr(sep + 3);
  size_t path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  rest = path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  // The user info ends at the last '@': passwords may contain '@' unescaped.
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    STASH_RETURN_IF_ERROR(ParseUserInfo(authority.substr(0, at), url));
    authority = authority.substr(at + 1);
  }
  Status hp = ParseHostPort(authority, url);
  if (!hp.ok()) return hp.error().Wrap("URL " + std::string(text));
  size_t q = rest.find('?');
  url.path = std::string(rest.substr(0, q));
  if (q != std::string_view::npos) url.query = std::string(rest.substr(q + 1));
  if (url.path.empty()) url.path = "/";
  return url;
}

Result<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return Invalid("bad %-escape in \"" + std::string(text) + "\"");
    int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return Invalid("bad %-escape in \"" + std::string(text) + "\"");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string UriEncode(std::string_view text, bool keep_slash) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

bool IsIpLiteral(std::string_view host) {
  std::string h(host);
  unsigned char buf[16];
  return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

std::string CleanPath(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string out;
  for (auto p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

}  // namespace stash::http
