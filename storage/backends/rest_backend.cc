#include "storage/backends/rest_backend.h"

#include <cstdlib>

#include "crypto/encoding.h"
#include "crypto/id.h"
#include "net/ranged_read.h"
#include "base/json_util.h"
#include "storage/backends/object_store.h"

namespace stash {
namespace {

constexpr char kBackend[] = "rest";
constexpr char kContentTypeV2[] = "application/vnd.x.restic.rest.v2";

std::string What(FileType type, const std::string& name) {
  return type == FileType::kConfig ? "config" : std::string(FileTypeDir(type)) + "/" + name;
}

bool IsSuccess(int status) { return status >= 200 && status < 300; }


}  // namespace

std::string RestPath(FileType type, const std::string& name) {
  return What(type, name);
}

Result<RestLocation> ParseRestLocation(const std::string& location) {
  if (location.rfind("rest:", 0) != 0) return Invalid("not a rest: location: " + location);
  std::string url_text = location.substr(5);
  if (url_text.empty() || url_text.back() != '/') url_text += '/';
  auto url = http::ParseUrl(url_text);
  if (!url.ok()) return url.error().Wrap("rest: bad repository location");
  if (!url->query.empty()) return Invalid("rest: repository URL must not have a query: " + location);
  RestLocation out{*url, "rest:" + url->scheme + "://"};
  if (!url->user.empty() || url->has_password) {
    out.display += http::UriEncode(url->user, false) + (url->has_password ? ":***" : "") + "@";
  }
  out.display += url->HostHeader() + url->path;
  return out;
}

Result<std::vector<FileInfo>> ParseRestListing(std::string_view text, bool v2) {
  STASH_ASSIGN_OR_RETURN(auto doc, json::Parse(text, "rest: listing"));
  if (!doc.IsArray()) return Corrupt("rest: listing is not a JSON array");
  std::vector<FileInfo> out;
  for (const auto& item : doc.GetArray()) {
    FileInfo info;
    if (v2) {
      auto name = json::String(item, "name");
      auto size = json::Uint(item, "size");
      if (!name || !size) return Corrupt("rest: listing entry without name or size");
      info = {*name, *size};
    } else {
      if (!item.IsString()) return Corrupt("rest: v1 listing entry is not a string");
      info.name = item.GetString();
    }
    if (IsRepositoryFileName(info.name)) out.push_back(std::move(info));
  }
  return out;
}

Result<std::unique_ptr<Backend>> RestBackend::Open(const std::string& location,
                                                   http::HttpOptions options) {
  STASH_ASSIGN_OR_RETURN(RestLocation where, ParseRestLocation(location));
  STASH_ASSIGN_OR_RETURN(auto client, http::HttpClient::Create(kBackend, where.url, options));
  return std::unique_ptr<Backend>(new RestBackend(std::move(where), std::move(client)));
}

RestBackend::RestBackend(RestLocation where, std::unique_ptr<http::HttpClient> client)
    : where_(std::move(where)), client_(std::move(client)) {
  const http::Url& u = where_.url;
  if (!u.user.empty() || u.has_password) {
    authorization_ = "Basic " + Base64Encode(AsBytes(u.user + ":" + u.password));
  }
}

http::HttpRequest RestBackend::NewRequest(const std::string& method, const std::string& path,
                                          const std::string& what) const {
  http::HttpRequest r;
  r.method = method;
  r.target = where_.url.path + path;
  r.what = what;
  r.headers.emplace_back("Accept", kContentTypeV2);
  if (!authorization_.empty()) r.headers.emplace_back("Authorization", authorization_);
  return r;
}

Result<http::HttpResponse> RestBackend::Send(const http::HttpRequest& request) const {
  return client_->Do(request);
}

Status RestBackend::Create() {
  auto config = Stat(FileType::kConfig, "config");
  if (config.ok()) return Conflict("repository " + Location() + " already exists (config file found)");
  if (config.error().kind() != ErrorKind::kNotFound) return config.error();
  auto request = NewRequest("POST", "?create=true", "create repository");
  STASH_ASSIGN_OR_RETURN(auto response, Send(request));
  if (response.status != 200) {
    return http::StatusError(kBackend, request.what, response, response.BodyText());
  }
  return Status::Ok();
}

Result<std::vector<FileInfo>> RestBackend::List(FileType type) {
  if (type == FileType::kConfig) {
    std::vector<FileInfo> out;
    auto info = Stat(type, "config");
    if (info.ok()) out.push_back(*info);
    else if (info.error().kind() != ErrorKind::kNotFound) return info.error();
    return out;
  }
  std::string dir = std::string(FileTypeDir(type)) + "/";
  auto request = NewRequest("GET", dir, dir);
  STASH_ASSIGN_OR_RETURN(auto response, Send(request));
  // rest-server answers 404 for a type folder that does not exist yet.
  if (response.status == 404) return std::vector<FileInfo>();
  if (response.status != 200) {
    return http::StatusError(kBackend, dir, response, response.BodyText());
  }
  bool v2 = response.Header("content-type").rfind(kContentTypeV2, 0) == 0;
  auto listing = ParseRestListing(AsString(response.body), v2);
  if (!listing.ok() || v2) return listing;
  std::vector<std::string> names;
  for (const auto& f : *listing) names.push_back(f.name);
  return StatEach(type, names);
}

// Protocol v1 lists names only: one HEAD per file gives the sizes.
Result<std::vector<FileInfo>> RestBackend::StatEach(FileType type,
                                                    const std::vector<std::string>& names) {
  std::vector<FileInfo> out;
  for (const auto& name : names) {
    auto info = Stat(type, name);
    if (!info.ok() && info.error().kind() == ErrorKind::kNotFound) continue;  // removed since
    if (!info.ok()) return info.error();
    out.push_back(*info);
  }
  return out;
}

Result<FileInfo> RestBackend::Stat(FileType type, const std::string& name) {
  auto request = NewRequest("HEAD", RestPath(type, name), What(type, name));
  STASH_ASSIGN_OR_RETURN(auto response, Send(request));
  if (response.status != 200) return http::StatusError(kBackend, request.what, response, "");
  std::string length = response.Header("content-length");
  char* end = nullptr;
  uint64_t size = std::strtoull(length.c_str(), &end, 10);
  if (length.empty() || *end != '\0') {
    return Corrupt("rest: " + request.what + ": HEAD answer without a Content-Length");
  }
  return FileInfo{name, size};
}

Status RestBackend::ReadInto(FileType type, const std::string& name, uint64_t offset, uint64_t length,
                             Bytes& out) {
  auto request = NewRequest("GET", RestPath(type, name), What(type, name));
  std::string range = http::RangeValue(offset, length);
  if (!range.empty()) request.headers.emplace_back("Range", range);
  request.reuse_body = &out;
  STASH_ASSIGN_OR_RETURN(auto response, Send(request));
  if (!http::IsRangedAnswer(response)) {
    return http::StatusError(kBackend, request.what, response, response.BodyText());
  }
  STASH_ASSIGN_OR_RETURN(out, FinishRead(*this, type, name, offset, length,
                                         http::RangedBody(response, offset, length, kBackend, request.what)));
  return Status::Ok();
}

Status RestBackend::Write(FileType type, const std::string& name, ByteView data) {
  return WriteNew(*this, type, name, data, [&] { return PostNew(type, name, data); });
}

// Sent from the file a piece at a time: a pack is never all in memory.
Status RestBackend::WriteFromFile(FileType type, const std::string& name, int fd, uint64_t size) {
  if (size == 0) return Backend::WriteFromFile(type, name, fd, size);
  return WriteNewFromFile(*this, type, name, fd, size, [&] { return PostNew(type, name, {}, {fd, size}); });
}

Status RestBackend::PostNew(FileType type, const std::string& name, ByteView data,
                            const http::HttpRequest::FileBody& file) {
  std::string what = What(type, name);
  auto existing = Stat(type, name);
  if (existing.ok()) return Conflict("rest: " + what + ": file already exists");
  if (existing.error().kind() != ErrorKind::kNotFound) return existing.error();
  auto request = NewRequest("POST", RestPath(type, name), what);
  request.headers.emplace_back("Content-Type", "application/octet-stream");
  request.body = data;
  request.body_file = file;
  STASH_ASSIGN_OR_RETURN(auto response, Send(request));
  if (IsSuccess(response.status)) return Status::Ok();
  // rest-server refuses to overwrite with 403: the name is taken (perhaps
  // by an earlier attempt of ours whose answer was lost).
  if (response.status == 403 && Stat(type, name).ok()) {
    return Conflict("rest: " + what + ": file already exists");
  }
  return http::StatusError(kBackend, what, response, response.BodyText());
}

Status RestBackend::Remove(FileType type, const std::string& name) {
  auto request = NewRequest("DELETE", RestPath(type, name), What(type, name));
  STASH_ASSIGN_OR_RETURN(auto response, Send(request));
  if (DeleteDone(response)) return Status::Ok();
  return http::StatusError(kBackend, request.what, response, response.BodyText());
}

}  // namespace stash
