#include "storage/backends/swift_backend.h"

#include "storage/backends/object_store.h"

#include <openssl/evp.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdlib>

#include "crypto/digest.h"
#include "crypto/encoding.h"
#include "crypto/id.h"
#include "net/ranged_read.h"
#include "base/json_util.h"

// Request shapes: Swift's object storage API reference
// (https://docs.openstack.org/api-ref/object-store/), Keystone's identity
// API v2.0 (POST /v2.0/tokens) and v3 (POST /v3/auth/tokens,
// https://docs.openstack.org/api-ref/identity/v3/).
namespace stash {
namespace {

constexpr char kBackend[] = "swift";
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Field(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

Error Failure(const std::string& what, const http::HttpResponse& response) {
  return http::StatusError(kBackend, what, response, response.BodyText());
}

// The object-store endpoints of a catalog (v2 "serviceCatalog", v3
// "catalog"): the first whose region matches and that passes `pick`.
template <class Pick>
std::string FindEndpoint(const rapidjson::Value* catalog, const std::string& region, Pick pick) {
  if (!catalog || !catalog->IsArray()) return "";
  for (const auto& service : catalog->GetArray()) {
    if (json::String(service, "type") != "object-store") continue;
    const auto* endpoints = json::Member(service, "endpoints");
    if (!endpoints || !endpoints->IsArray()) continue;
    for (const auto& e : endpoints->GetArray()) {
      bool in_region = region.empty() || json::String(e, "region") == region ||
                       json::String(e, "region_id") == region;
      std::string url = in_region ? pick(e) : "";
      if (!url.empty()) return TrimSlash(url);
    }
  }
  return "";
}

Error NoEndpoint(const std::string& region) {
  return Invalid("swift: the Keystone catalog has no object-store endpoint" +
                  (region.empty() ? std::string() : " in region \"" + region + "\""));
}

}  // namespace

Result<SwiftConfig> ParseSwiftLocation(const std::string& location) {
  if (location.rfind("swift:", 0) != 0) return Invalid("swift: unexpected prefix: " + location);
  std::string rest = location.substr(6);
  size_t colon = rest.find(':');
  if (colon == std::string::npos) {
    return Invalid("swift: invalid URL, expected: swift:container-name:/[prefix]");
  }
  SwiftConfig config;
  config.container = rest.substr(0, colon);
  std::string prefix = rest.substr(colon + 1);
  if (config.container.empty()) return Invalid("swift: container name is empty");
  if (prefix.empty()) return Invalid("swift: prefix is empty");
  if (prefix[0] != '/') return Invalid("swift: prefix does not start with slash (/)");
  config.prefix = http::CleanPath(prefix);
  return config;
}

Status SwiftConfigFromSettings(SwiftConfig& config, const BackendOptions& settings) {
  auto Env = [&](const char* first, const char* second = "") {
    std::string v = settings.Get(first);
    return v.empty() && *second ? settings.Get(second) : v;
  };
  config.storage_url = TrimSlash(Env("OS_STORAGE_URL"));
  config.token = Env("OS_AUTH_TOKEN");
  if (!config.storage_url.empty() && !config.token.empty()) {
    config.auth = SwiftConfig::Auth::kToken;
    return Status::Ok();
  }
  config.auth_url = Env("OS_AUTH_URL", "ST_AUTH");
  config.user = Env("OS_USERNAME", "ST_USER");
  config.key = Env("OS_PASSWORD", "ST_KEY");
  config.region = Env("OS_REGION_NAME");
  config.tenant_id = Env("OS_TENANT_ID");
  config.tenant_name = Env("OS_PROJECT_NAME", "OS_TENANT_NAME");
  config.user_domain = Env("OS_USER_DOMAIN_NAME");
  config.project_domain = Env("OS_PROJECT_DOMAIN_NAME");
  if (config.auth_url.empty()) {
    return Invalid("unable to open Swift backend: no auth URL: set $ST_AUTH (v1) or "
                   "$OS_AUTH_URL (Keystone), or $OS_STORAGE_URL and $OS_AUTH_TOKEN");
  }
  if (config.user.empty()) {
    return Invalid("unable to open Swift backend: user name ($ST_USER or $OS_USERNAME) is empty");
  }
  if (config.key.empty()) {
    return Invalid("unable to open Swift backend: key ($ST_KEY or $OS_PASSWORD) is empty");
  }
  // As ncw/swift guesses the version when none is set.
  if (config.auth_url.find("v3") != std::string::npos) config.auth = SwiftConfig::Auth::kV3;
  else if (config.auth_url.find("v2") != std::string::npos) config.auth = SwiftConfig::Auth::kV2;
  else config.auth = SwiftConfig::Auth::kV1;
  return Status::Ok();
}

std::string KeystoneV2Request(const SwiftConfig& c) {
  rapidjson::StringBuffer out;
  Writer w(out);
  w.StartObject();
  w.Key("auth");
  w.StartObject();
  w.Key("passwordCredentials");
  w.StartObject();
  Field(w, "username", c.user);
  Field(w, "password", c.key);
  w.EndObject();
  if (!c.tenant_id.empty()) Field(w, "tenantId", c.tenant_id);
  if (!c.tenant_name.empty()) Field(w, "tenantName", c.tenant_name);
  w.EndObject();
  w.EndObject();
  return out.GetString();
}

std::string KeystoneV3Request(const SwiftConfig& c) {
  // Keystone's default domain is named "Default"; a user name alone is ambiguous.
  std::string user_domain = c.user_domain.empty() ? "Default" : c.user_domain;
  std::string project_domain = c.project_domain.empty() ? user_domain : c.project_domain;
  rapidjson::StringBuffer out;
  Writer w(out);
  w.StartObject();
  w.Key("auth");
  w.StartObject();
  w.Key("identity");
  w.StartObject();
  w.Key("methods");
  w.StartArray();
  w.String("password");
  w.EndArray();
  w.Key("password");
  w.StartObject();
  w.Key("user");
  w.StartObject();
  Field(w, "name", c.user);
  w.Key("domain");
  w.StartObject();
  Field(w, "name", user_domain);
  w.EndObject();
  Field(w, "password", c.key);
  w.EndObject();  // user
  w.EndObject();  // password
  w.EndObject();  // identity
  if (!c.tenant_id.empty() || !c.tenant_name.empty()) {
    w.Key("scope");
    w.StartObject();
    w.Key("project");
    w.StartObject();
    if (!c.tenant_id.empty()) {
      Field(w, "id", c.tenant_id);
    } else {
      Field(w, "name", c.tenant_name);
      w.Key("domain");
      w.StartObject();
      Field(w, "name", project_domain);
      w.EndObject();
    }
    w.EndObject();  // project
    w.EndObject();  // scope
  }
  w.EndObject();  // auth
  w.EndObject();
  return out.GetString();
}

Result<SwiftSession> ParseKeystoneV2(std::string_view text, const std::string& region) {
  STASH_ASSIGN_OR_RETURN(auto doc, json::Parse(text, "swift: Keystone v2 answer"));
  const auto* access = json::Member(doc, "access");
  const auto* token = access ? json::Member(*access, "token") : nullptr;
  auto id = token ? json::String(*token, "id") : std::nullopt;
  if (!id) return Corrupt("swift: Keystone v2 answer without access.token.id");
  std::string url = FindEndpoint(json::Member(*access, "serviceCatalog"), region,
                                 [](const rapidjson::Value& e) {
    return json::String(e, "publicURL").value_or("");
  });
  if (url.empty()) return NoEndpoint(region);
  return SwiftSession{url, *id};
}

Result<SwiftSession> ParseKeystoneV3(std::string_view text, const std::string& subject_token,
                                     const std::string& region) {
  if (subject_token.empty()) return Corrupt("swift: Keystone v3 answer without X-Subject-Token");
  STASH_ASSIGN_OR_RETURN(auto doc, json::Parse(text, "swift: Keystone v3 answer"));
  const auto* token = json::Member(doc, "token");
  if (!token) return Corrupt("swift: Keystone v3 answer without a token object");
  std::string url = FindEndpoint(json::Member(*token, "catalog"), region,
                                 [](const rapidjson::Value& e) {
    return json::String(e, "interface") == "public" ? json::String(e, "url").value_or("") : "";
  });
  if (url.empty()) return NoEndpoint(region);
  return SwiftSession{url, subject_token};
}

Result<std::vector<FileInfo>> ParseSwiftListing(std::string_view text) {
  STASH_ASSIGN_OR_RETURN(auto doc, json::Parse(text, "swift: container listing"));
  std::vector<FileInfo> out;
  if (doc.IsNull()) return out;  // swifttest's empty listing
  if (!doc.IsArray()) return Corrupt("swift: container listing is not a JSON array");
  for (const auto& item : doc.GetArray()) {
    if (json::Member(item, "subdir")) continue;
    auto name = json::String(item, "name");
    auto size = json::Uint(item, "bytes");
    if (!name || !size) return Corrupt("swift: listing entry without name or bytes");
    out.push_back({*name, *size});
  }
  return out;
}

// ---- The backend ----

Result<std::unique_ptr<Backend>> SwiftBackend::Open(SwiftConfig config, http::HttpOptions options) {
  const std::string& url = config.auth == SwiftConfig::Auth::kToken ? config.storage_url
                                                                     : config.auth_url;
  auto parsed = http::ParseUrl(url);
  if (!parsed.ok()) return parsed.error().Wrap("swift: bad URL \"" + url + "\"");
  return std::unique_ptr<Backend>(new SwiftBackend(std::move(config), std::move(options)));
}

SwiftBackend::SwiftBackend(SwiftConfig config, http::HttpOptions options)
    : config_(std::move(config)), clients_(kBackend, std::move(options)) {}

std::string SwiftBackend::Location() const {
  return "swift:" + config_.container + ":/" + config_.prefix;
}

std::string SwiftBackend::KeyOf(FileType type, const std::string& name) const {
  return ObjectLayout(config_.prefix).Key(type, name);
}

Result<SwiftSession> SwiftBackend::AuthenticateV1() {
  http::HttpRequest request;
  request.what = "auth";
  request.headers = {{"X-Auth-User", config_.user}, {"X-Auth-Key", config_.key}};
  STASH_ASSIGN_OR_RETURN(auto response, clients_.Send(config_.auth_url, request));
  if (response.status < 200 || response.status > 299) return Failure("auth (v1)", response);
  SwiftSession session{TrimSlash(response.Header("x-storage-url")), response.Header("x-auth-token")};
  if (session.storage_url.empty() || session.token.empty()) {
    return Corrupt("swift: v1 auth answer without X-Storage-Url or X-Auth-Token");
  }
  return session;
}

Result<SwiftSession> SwiftBackend::AuthenticateKeystone() {
  bool v3 = config_.auth == SwiftConfig::Auth::kV3;
  std::string body = v3 ? KeystoneV3Request(config_) : KeystoneV2Request(config_);
  http::HttpRequest request;
  request.method = "POST";
  request.what = v3 ? "auth (Keystone v3)" : "auth (Keystone v2)";
  request.body = AsBytes(body);
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  std::string url = TrimSlash(config_.auth_url) + (v3 ? "/auth/tokens" : "/tokens");
  STASH_ASSIGN_OR_RETURN(auto response, clients_.Send(url, request));
  if (response.status < 200 || response.status > 299) return Failure(request.what, response);
  std::string_view text = AsString(response.body);
  if (v3) return ParseKeystoneV3(text, response.Header("x-subject-token"), config_.region);
  return ParseKeystoneV2(text, config_.region);
}

Result<SwiftSession> SwiftBackend::Authenticate() {
  switch (config_.auth) {
    case SwiftConfig::Auth::kToken: return SwiftSession{config_.storage_url, config_.token};
    case SwiftConfig::Auth::kV1: return AuthenticateV1();
    case SwiftConfig::Auth::kV2:
    case SwiftConfig::Auth::kV3: break;
  }
  return AuthenticateKeystone();
}

// Takes a new token unless another thread already replaced the one the
// caller saw refused (`seen_generation`).
Status SwiftBackend::Reauthenticate(uint64_t seen_generation) {
  std::lock_guard<std::mutex> lock(mu_);
  if (generation_ != seen_generation) return Status::Ok();
  STASH_ASSIGN_OR_RETURN(session_, Authenticate());
  ++generation_;
  return Status::Ok();
}

Result<SwiftSession> SwiftBackend::CurrentSession(uint64_t* generation) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (generation_ > 0) {
      *generation = generation_;
      return session_;
    }
  }
  STASH_RETURN_IF_ERROR(Reauthenticate(0));
  std::lock_guard<std::mutex> lock(mu_);
  *generation = generation_;
  return session_;
}

Result<http::HttpResponse> SwiftBackend::Send(http::HttpRequest request, const std::string& key,
                                              const std::string& query) {
  std::string path = "/" + http::UriEncode(config_.container, false);
  if (!key.empty()) path += "/" + http::UriEncode(key, true);
  if (!query.empty()) path += "?" + query;
  size_t fixed_headers = request.headers.size();
  for (int attempt = 0;; ++attempt) {
    uint64_t generation = 0;
    STASH_ASSIGN_OR_RETURN(auto session, CurrentSession(&generation));
    request.headers.resize(fixed_headers);
    request.headers.emplace_back("X-Auth-Token", session.token);
    STASH_ASSIGN_OR_RETURN(auto response, clients_.Send(session.storage_url + path, request));
    // A token given as a setting cannot be renewed.
    bool renewable = config_.auth != SwiftConfig::Auth::kToken;
    if (response.status == 401 && renewable && attempt == 0) {
      STASH_RETURN_IF_ERROR(Reauthenticate(generation));
      continue;
    }
    return response;
  }
}

Status SwiftBackend::Create() {
  auto config = Stat(FileType::kConfig, "config");
  if (config.ok()) return Conflict("repository " + Location() + " already exists (config file found)");
  if (config.error().kind() != ErrorKind::kNotFound) return config.error();
  http::HttpRequest request;
  request.method = "PUT";
  request.what = "container " + config_.container;
  STASH_ASSIGN_OR_RETURN(auto response, Send(request, "", ""));
  // 201 Created, or 202 Accepted when the container was already there.
  if (response.status < 200 || response.status > 299) return Failure(request.what, response);
  return Status::Ok();
}

Result<std::vector<FileInfo>> SwiftBackend::List(FileType type) {
  std::vector<FileInfo> out;
  if (type == FileType::kConfig) return ListConfig(*this);
  ObjectLayout layout(config_.prefix);
  std::string dir = layout.ListPrefix(type);
  std::string marker;
  while (true) {
    std::string query = "format=json&limit=" + std::to_string(config_.list_limit) +
                        "&prefix=" + http::UriEncode(dir, false);
    if (!marker.empty()) query += "&marker=" + http::UriEncode(marker, false);
    http::HttpRequest request;
    request.what = dir;
    STASH_ASSIGN_OR_RETURN(auto response, Send(request, "", query));
    if (response.status == 204) break;  // an empty listing
    if (response.status != 200) return Failure(dir, response);
    STASH_ASSIGN_OR_RETURN(auto page, ParseSwiftListing(AsString(response.body)));
    if (page.empty()) break;
    for (auto& f : page) {
      if (auto name = layout.NameOf(type, f.name)) out.push_back({std::move(*name), f.size});
    }
    if (page.back().name <= marker) return Corrupt("swift: listing does not advance at " + marker);
    marker = page.back().name;
    // Swift pages by `limit`; a shorter page is the last one.
    if (page.size() < static_cast<size_t>(config_.list_limit)) break;
  }
  return out;
}

Result<FileInfo> SwiftBackend::StatKey(const std::string& key, const std::string& name) {
  http::HttpRequest request;
  request.method = "HEAD";
  request.what = key;
  STASH_ASSIGN_OR_RETURN(auto response, Send(request, key, ""));
  if (response.status != 200) return Failure(key, response);
  std::string length = response.Header("content-length");
  char* end = nullptr;
  uint64_t size = std::strtoull(length.c_str(), &end, 10);
  if (length.empty() || *end != '\0') {
    return Corrupt("swift: " + key + ": HEAD answer without a Content-Length");
  }
  return FileInfo{name, size};
}

Result<FileInfo> SwiftBackend::Stat(FileType type, const std::string& name) {
  return StatKey(KeyOf(type, name), name);
}

Status SwiftBackend::ReadInto(FileType type, const std::string& name, uint64_t offset, uint64_t length,
                              Bytes& out) {
  std::string key = KeyOf(type, name);
  if (offset > 0 && length == 0) {
    // Some Swift servers answer an open-ended range with 200 and only the
    // tail, which cannot be told from the whole object: ask for an exact
    // range instead.
    STASH_ASSIGN_OR_RETURN(FileInfo info, StatKey(key, name));
    if (info.size == offset) {
      out.clear();
      return Status::Ok();
    }
    if (info.size < offset) {
      return Corrupt("swift: " + key + ": file is truncated (" + std::to_string(info.size) +
                     " bytes, nothing at offset " + std::to_string(offset) + ")");
    }
    length = info.size - offset;
  }
  http::HttpRequest request;
  request.what = key;
  std::string range = http::RangeValue(offset, length);
  if (!range.empty()) request.headers.emplace_back("Range", range);
  request.reuse_body = &out;
  STASH_ASSIGN_OR_RETURN(auto response, Send(request, key, ""));
  if (!http::IsRangedAnswer(response)) return Failure(key, response);
  STASH_ASSIGN_OR_RETURN(out, FinishRead(*this, type, name, offset, length,
                                         http::RangedBody(response, offset, length, "swift", key)));
  return Status::Ok();
}

Status SwiftBackend::Write(FileType type, const std::string& name, ByteView data) {
  return WriteNew(*this, type, name, data, [&] {
    return PutNew(KeyOf(type, name), name, data, HexEncode(Digest(DigestKind::kMd5, data)));
  });
}

// A pack goes from its file a piece at a time, never all in memory; its
// MD5, for the ETag, is read from the file first.
Status SwiftBackend::WriteFromFile(FileType type, const std::string& name, int fd, uint64_t size) {
  if (size == 0) return Backend::WriteFromFile(type, name, fd, size);
  STASH_ASSIGN_OR_RETURN(Bytes md5, FileDigest(DigestKind::kMd5, fd, size));
  return WriteNewFromFile(*this, type, name, fd, size, [&] {
    return PutNew(KeyOf(type, name), name, {}, HexEncode(md5), {fd, size});
  });
}

// Swift compares the ETag of an upload with the MD5 of what it received.
Status SwiftBackend::PutNew(const std::string& key, const std::string& name, ByteView data, std::string md5_hex,
                            const http::HttpRequest::FileBody& file) {
  // Not every Swift honours If-None-Match on PUT, so look first as well.
  auto existing = StatKey(key, name);
  if (existing.ok()) return Conflict("swift: " + key + ": file already exists");
  if (existing.error().kind() != ErrorKind::kNotFound) return existing.error();
  http::HttpRequest request;
  request.method = "PUT";
  request.what = key;
  request.body = data;
  request.body_file = file;
  request.headers = {{"Content-Type", "application/octet-stream"},
                     {"ETag", md5_hex},
                     {"If-None-Match", "*"}};
  STASH_ASSIGN_OR_RETURN(auto response, Send(request, key, ""));
  // 412: a writer got in between (or our own earlier attempt did).
  if (response.status == 412) return Conflict("swift: " + key + ": file already exists");
  if (response.status < 200 || response.status > 299) return Failure(key, response);
  return Status::Ok();
}

Status SwiftBackend::Remove(FileType type, const std::string& name) {
  std::string key = KeyOf(type, name);
  http::HttpRequest request;
  request.method = "DELETE";
  request.what = key;
  STASH_ASSIGN_OR_RETURN(auto response, Send(request, key, ""));
  if (!DeleteDone(response)) return Failure(key, response);
  return Status::Ok();
}

}  // namespace stash
