#include "storage/backends/s3_backend.h"

#include "net/ranged_read.h"
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "crypto/id.h"
#include "storage/backends/object_store.h"

namespace stash {
namespace {

constexpr char kBackend[] = "s3";
constexpr char kEmptySha256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The host part of "host[:port]" (IPv6 literals keep their brackets off).
std::string HostOf(const std::string& endpoint) {
  auto url = http::ParseUrl("http://" + endpoint);
  return url.ok() ? url->host : endpoint;
}

// Bucket names that can stand in a host name and a wildcard certificate.
bool DnsCompatible(const std::string& bucket, bool https) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (char c : bucket) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok || (https && c == '.')) return false;
  }
  return bucket.front() != '-' && bucket.back() != '-';
}

// Builds the config from restic's two shapes: endpoint plus the rest of the
// path split into bucket and (cleaned) prefix.
Result<S3Config> MakeConfig(const std::string& endpoint, std::string_view rest, bool use_http) {
  size_t slash = rest.find('/');
  S3Config config;
  config.endpoint = endpoint;
  config.use_http = use_http;
  config.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) config.prefix = http::CleanPath(rest.substr(slash + 1));
  if (config.endpoint.empty() || config.bucket.empty()) {
    return Invalid("s3: invalid format, host/region or bucket name not found");
  }
  return config;
}

ObjectLayout LayoutOf(S3Layout layout, const std::string& prefix) {
  return ObjectLayout(prefix, layout == S3Layout::kLegacy ? ObjectLayout::Style::kS3Legacy
                                                          : ObjectLayout::Style::kDefault);
}

}  // namespace

Result<S3Config> ParseS3Location(const std::string& location) {
  if (location.rfind("s3:http", 0) == 0) {
    auto url = http::ParseUrl(location.substr(3));
    if (!url.ok()) return url.error().Wrap("s3: bad repository location");
    if (url->path.size() <= 1) return Invalid("s3: bucket name not found in " + location);
    return MakeConfig(url->HostHeader(), std::string_view(url->path).substr(1), !url->tls());
  }
  std::string_view rest = location;
  if (rest.rfind("s3://", 0) == 0) {
    rest.remove_prefix(5);
  } else if (rest.rfind("s3:", 0) == 0) {
    rest.remove_prefix(3);
  } else {
    return Invalid("s3: invalid format: " + location);
  }
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    return Invalid("s3: invalid format, host/region or bucket name not found");
  }
  return MakeConfig(std::string(rest.substr(0, slash)), rest.substr(slash + 1), false);
}

Status S3ConfigFromSettings(S3Config& config, const BackendOptions& settings) {
  auto Env = [&](const char* name) { return settings.Get(name); };
  config.credentials.access_key = Env("AWS_ACCESS_KEY_ID");
  config.credentials.secret_key = Env("AWS_SECRET_ACCESS_KEY");
  config.credentials.session_token = Env("AWS_SESSION_TOKEN");
  if (config.credentials.access_key.empty()) {
    return Invalid("unable to open S3 backend: Key ID ($AWS_ACCESS_KEY_ID) is empty");
  }
  if (config.credentials.secret_key.empty()) {
    return Invalid("unable to open S3 backend: Secret ($AWS_SECRET_ACCESS_KEY) is empty");
  }
  if (config.region.empty()) config.region = Env("AWS_DEFAULT_REGION");
  std::string v1 = Env("STASH_S3_LIST_OBJECTS_V1");
  if (v1 == "true" || v1 == "1") config.list_v1 = true;
  else if (!v1.empty() && v1 != "false" && v1 != "0") {
    return Invalid("bad STASH_S3_LIST_OBJECTS_V1 \"" + v1 + "\": must be true or false");
  }
  std::string lookup = Env("STASH_S3_BUCKET_LOOKUP");
  if (lookup == "dns") config.lookup = S3Config::Lookup::kDns;
  else if (lookup == "path") config.lookup = S3Config::Lookup::kPath;
  else if (lookup.empty() || lookup == "auto") config.lookup = S3Config::Lookup::kAuto;
  else return Invalid("bad bucket lookup style \"" + lookup + "\": must be auto, dns or path");
  return Status::Ok();
}

std::string RegionFromEndpoint(const std::string& endpoint) {
  std::string host = HostOf(endpoint);
  for (const char* suffix : {".amazonaws.com", ".amazonaws.com.cn"}) {
    if (!EndsWith(host, suffix)) continue;
    std::string name = host.substr(0, host.size() - std::strlen(suffix));
    // "s3", "s3.<region>", "s3-<region>", "bucket.s3.<region>", "s3.dualstack.<region>"
    size_t s3 = name.rfind("s3");
    if (s3 == std::string::npos) return "";
    std::string region = name.substr(s3 + 2);
    if (!region.empty() && (region[0] == '.' || region[0] == '-')) region.erase(0, 1);
    if (region.rfind("dualstack.", 0) == 0) region.erase(0, 10);
    return region.empty() ? "us-east-1" : region;
  }
  return "";
}

bool UseVirtualHost(const S3Config& config) {
  switch (config.lookup) {
    case S3Config::Lookup::kDns: return true;
    case S3Config::Lookup::kPath: return false;
    case S3Config::Lookup::kAuto: break;
  }
  return EndsWith(HostOf(config.endpoint), ".amazonaws.com") &&
         DnsCompatible(config.bucket, !config.use_http);
}

std::string S3RelativeKey(S3Layout layout, FileType type, const std::string& name) {
  return LayoutOf(layout, "").Relative(type, name);
}

// ---- The backend ----

Result<std::unique_ptr<Backend>> S3Backend::Open(S3Config config, http::HttpOptions options) {
  if (config.region.empty()) config.region = RegionFromEndpoint(config.endpoint);
  if (config.region.empty()) config.region = "us-east-1";
  std::string host = UseVirtualHost(config) ? config.bucket + "." + config.endpoint
                                            : config.endpoint;
  auto origin = http::ParseUrl((config.use_http ? "http://" : "https://") + host + "/");
  if (!origin.ok()) return origin.error().Wrap("s3: bad endpoint \"" + config.endpoint + "\"");
  STASH_ASSIGN_OR_RETURN(auto client, http::HttpClient::Create(kBackend, *origin, options));
  return std::unique_ptr<Backend>(new S3Backend(std::move(config), std::move(client)));
}

S3Backend::S3Backend(S3Config config, std::unique_ptr<http::HttpClient> client)
    : config_(std::move(config)), client_(std::move(client)) {}

std::string S3Backend::Location() const {
  std::string loc = "s3:" + config_.endpoint + "/" + config_.bucket;
  if (!config_.prefix.empty()) loc += "/" + config_.prefix;
  return loc;
}

std::string S3Backend::FullKey(const std::string& relative) const {
  return config_.prefix.empty() ? relative : config_.prefix + "/" + relative;
}

std::string S3Backend::KeyOf(FileType type, const std::string& name) const {
  return S3RelativeKey(layout_, type, name);
}

http::HttpRequest S3Backend::NewRequest(const std::string& method, const std::string& key,
                                        const http::HeaderList& query, const std::string& what,
                                        ByteView body, std::string body_sha256) const {
  std::string path = UseVirtualHost(config_) ? "" : "/" + http::UriEncode(config_.bucket, false);
  path += "/" + http::UriEncode(key, true);
  http::HttpRequest r;
  r.method = method;
  r.target = query.empty() ? path : path + "?" + http::CanonicalQuery(query);
  r.what = what;
  r.body = body;
  std::string payload_hash = !body_sha256.empty() ? std::move(body_sha256)
                             : body.empty()        ? kEmptySha256
                                                   : Sha256(body).Hex();
  // Signed per attempt: a retry minutes later needs a fresh date.
  r.sign = [this, method, path, query, payload_hash](http::HttpRequest& req) {
    http::SigV4Scope scope{config_.region, "s3", http::AmzDate(std::time(nullptr))};
    http::SigV4Request sig{method, path, query, {}, payload_hash};
    sig.headers = {{"host", client_->origin().HostHeader()},
                   {"x-amz-content-sha256", payload_hash},
                   {"x-amz-date", scope.amz_date}};
    if (!config_.credentials.session_token.empty()) {
      sig.headers.emplace_back("x-amz-security-token", config_.credentials.session_token);
    }
    for (size_t i = 1; i < sig.headers.size(); ++i) req.headers.push_back(sig.headers[i]);
    req.headers.emplace_back("Authorization",
                             http::Authorization(config_.credentials, scope, sig));
  };
  return r;
}

Result<http::HttpResponse> S3Backend::Send(const http::HttpRequest& request) const {
  return client_->Do(request);
}

// "s3: data/ab/ab12...: 403 Forbidden: SignatureDoesNotMatch".
Error S3Backend::Failure(const std::string& what, const http::HttpResponse& response) const {
  std::string_view body = AsString(response.body);
  std::string detail = http::XmlText(body, "Code").value_or("");
  if (detail.empty()) detail = response.BodyText();
  return http::StatusError(kBackend, what, response, detail);
}

Status S3Backend::EnsureLayout() {
  std::call_once(layout_once_, [this] { layout_status_ = DetectLayout(); });
  return layout_status_;
}

// As restic: the legacy layout when key/ has files and keys/ has none.
// Whole listings, not max-keys=1: a repository has a handful of keys, and
// s3rver (3.7) answers 500 to a V2 listing that max-keys cuts short.
Status S3Backend::DetectLayout() {
  STASH_ASSIGN_OR_RETURN(auto keys, ListKeys("keys/"));
  if (!keys.empty()) return Status::Ok();
  STASH_ASSIGN_OR_RETURN(auto legacy, ListKeys("key/"));
  if (!legacy.empty()) layout_ = S3Layout::kLegacy;
  return Status::Ok();
}

// Objects under prefix/dir, following continuation tokens.
Result<std::vector<http::ListedObject>> S3Backend::ListKeys(const std::string& dir) {
  std::vector<http::ListedObject> out;
  std::string token;
  do {
    http::HeaderList query = {{"prefix", FullKey(dir)}};
    if (!config_.list_v1) query.emplace_back("list-type", "2");
    if (!token.empty()) query.emplace_back(config_.list_v1 ? "marker" : "continuation-token", token);
    auto request = NewRequest("GET", "", query, dir);
    STASH_ASSIGN_OR_RETURN(auto response, Send(request));
    if (response.status != 200) return Failure(dir, response);
    auto page = http::ParseListPage(AsString(response.body));
    if (!page.ok()) return page.error().Wrap(std::string(kBackend) + ": " + dir);
    for (auto& object : page->objects) out.push_back(std::move(object));
    token = !page->truncated ? "" : config_.list_v1 ? page->next_marker : page->next_token;
  } while (!token.empty());
  return out;
}

// Creates the bucket when it is missing, as restic's init does.
Status S3Backend::EnsureBucket() {
  auto head = NewRequest("HEAD", "", {}, "bucket " + config_.bucket);
  STASH_ASSIGN_OR_RETURN(auto found, Send(head));
  if (found.status == 200) return Status::Ok();
  if (found.status != 404) return Failure(head.what, found);
  std::string body;
  if (config_.region != "us-east-1") {
    body = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
           "<LocationConstraint>" + config_.region + "</LocationConstraint>"
           "</CreateBucketConfiguration>";
  }
  auto put = NewRequest("PUT", "", {}, head.what, AsBytes(body));
  STASH_ASSIGN_OR_RETURN(auto created, Send(put));
  if (created.status != 200) return Failure(put.what, created);
  return Status::Ok();
}

Status S3Backend::Create() {
  std::call_once(layout_once_, [] {});  // a new repository gets the default layout
  auto config = Stat(FileType::kConfig, "config");
  if (config.ok()) return Conflict("repository " + Location() + " already exists (config file found)");
  if (config.error().kind() != ErrorKind::kNotFound) return config.error();
  return EnsureBucket();
}

Result<std::vector<FileInfo>> S3Backend::List(FileType type) {
  STASH_RETURN_IF_ERROR(EnsureLayout());
  if (type == FileType::kConfig) return ListConfig(*this);
  ObjectLayout layout = LayoutOf(layout_, config_.prefix);
  std::string dir = layout.ListPrefix(type);
  if (!config_.prefix.empty()) dir = dir.substr(config_.prefix.size() + 1);
  STASH_ASSIGN_OR_RETURN(auto objects, ListKeys(dir));
  std::vector<FileInfo> out;
  for (auto& object : objects) {
    if (auto name = layout.NameOf(type, object.key)) out.push_back({std::move(*name), object.size});
  }
  return out;
}

Result<FileInfo> S3Backend::StatKey(const std::string& relative, const std::string& name) {
  auto request = NewRequest("HEAD", FullKey(relative), {}, relative);
  STASH_ASSIGN_OR_RETURN(auto response, Send(request));
  if (response.status != 200) return Failure(relative, response);
  std::string length = response.Header("content-length");
  char* end = nullptr;
  uint64_t size = std::strtoull(length.c_str(), &end, 10);
  if (length.empty() || *end != '\0') {
    return Corrupt("s3: " + relative + ": HEAD answer without a Content-Length");
  }
  return FileInfo{name, size};
}

Result<FileInfo> S3Backend::Stat(FileType type, const std::string& name) {
  STASH_RETURN_IF_ERROR(EnsureLayout());
  return StatKey(KeyOf(type, name), name);
}

Status S3Backend::ReadInto(FileType type, const std::string& name, uint64_t offset, uint64_t length,
                           Bytes& out) {
  STASH_RETURN_IF_ERROR(EnsureLayout());
  std::string relative = KeyOf(type, name);
  auto request = NewRequest("GET", FullKey(relative), {}, relative);
  std::string range = http::RangeValue(offset, length);
  if (!range.empty()) request.headers.emplace_back("Range", range);
  request.reuse_body = &out;
  STASH_ASSIGN_OR_RETURN(auto response, Send(request));
  if (!http::IsRangedAnswer(response)) return Failure(relative, response);
  STASH_ASSIGN_OR_RETURN(out, FinishRead(*this, type, name, offset, length,
                                         http::RangedBody(response, offset, length, kBackend, relative)));
  return Status::Ok();
}

Status S3Backend::Write(FileType type, const std::string& name, ByteView data) {
  STASH_RETURN_IF_ERROR(EnsureLayout());
  return WriteNew(*this, type, name, data, [&] { return PutNew(KeyOf(type, name), name, data); });
}

// A pack is sent from its file a piece at a time, never all in memory. Its
// name is the SHA-256 of its bytes: S3 gets it as the body's checksum (and
// checks the body against it), so the pack is not read twice to hash it.
Status S3Backend::WriteFromFile(FileType type, const std::string& name, int fd, uint64_t size) {
  if (type != FileType::kPack || size == 0 || !IsRepositoryFileName(name)) {
    return Backend::WriteFromFile(type, name, fd, size);
  }
  STASH_RETURN_IF_ERROR(EnsureLayout());
  return WriteNewFromFile(*this, type, name, fd, size, [&] {
    return PutNew(KeyOf(type, name), name, {}, name, {fd, size});
  });
}

// S3 has no create-only PUT that every server honours: look first. A PUT
// replaces atomically, so a retry after a lost answer is harmless.
Status S3Backend::PutNew(const std::string& relative, const std::string& name, ByteView data,
                         std::string data_sha256, const http::HttpRequest::FileBody& file) {
  auto existing = StatKey(relative, name);
  if (existing.ok()) return Conflict("s3: " + relative + ": file already exists");
  if (existing.error().kind() != ErrorKind::kNotFound) return existing.error();
  auto request = NewRequest("PUT", FullKey(relative), {}, relative, data, std::move(data_sha256));
  request.body_file = file;
  request.headers.emplace_back("Content-Type", "application/octet-stream");
  STASH_ASSIGN_OR_RETURN(auto response, Send(request));
  if (response.status != 200) return Failure(relative, response);
  return Status::Ok();
}

// S3 answers a DELETE of a missing key with success, so look first to give
// the contract's kNotFound.
Status S3Backend::Remove(FileType type, const std::string& name) {
  STASH_RETURN_IF_ERROR(EnsureLayout());
  std::string relative = KeyOf(type, name);
  STASH_RETURN_IF_ERROR(StatKey(relative, name));
  auto request = NewRequest("DELETE", FullKey(relative), {}, relative);
  STASH_ASSIGN_OR_RETURN(auto response, Send(request));
  if (!DeleteDone(response)) return Failure(relative, response);
  return Status::Ok();
}

}  // namespace stash
