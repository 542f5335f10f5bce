#include "storage/backends/b2_backend.h"

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

// Request and answer shapes follow Backblaze's API documentation,
// https://www.backblaze.com/b2/docs/<call>.html for each call used here:
// b2_upload_file.html (percent-encoded X-Bz-File-Name, X-Bz-Content-Sha1,
// Content-Length required), uploading.html (an upload URL serves one
// thread and is replaced after a 401 or 50x), b2_list_file_names.html
// (startFileName/nextFileName paging, maxFileCount at most 10000).
namespace stash {
namespace {

constexpr char kBackend[] = "b2";

// Bucket names as restic 0.14 checks them (b2.checkBucketName).
Status CheckBucketName(const std::string& name) {
  if (name.empty()) return Invalid("b2: bucket name not found");
  if (name.size() < 6) return Invalid("b2: bucket name is too short: " + name);
  if (name.size() > 50) return Invalid("b2: bucket name is too long: " + name);
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) {
      return Invalid("b2: bucket name contains invalid characters, allowed are: a-z, 0-9, dash (-)");
    }
  }
  return Status::Ok();
}

// A JSON object of string fields (empty ones left out) and, when not 0,
// maxFileCount: every request body this backend sends has that shape.
std::string JsonBody(std::initializer_list<std::pair<const char*, std::string>> fields,
                     int max_file_count = 0) {
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> w(out);
  w.StartObject();
  for (const auto& [key, value] : fields) {
    if (value.empty()) continue;
    w.Key(key);
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  }
  if (max_file_count > 0) {
    w.Key("maxFileCount");
    w.Int(max_file_count);
  }
  w.EndObject();
  return out.GetString();
}

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// Whether a 401 means "get a new token" rather than "wrong key".
bool TokenExpired(const http::HttpResponse& response) {
  if (response.status != 401) return false;
  std::string detail = B2ErrorDetail(AsString(response.body));
  return detail.rfind("expired_auth_token", 0) == 0 || detail.rfind("bad_auth_token", 0) == 0;
}

Error Failure(const std::string& what, const http::HttpResponse& response) {
  return http::StatusError(kBackend, what, response, B2ErrorDetail(AsString(response.body)));
}

Result<uint64_t> ContentLength(const http::HttpResponse& response, const std::string& what) {
  std::string length = response.Header("content-length");
  char* end = nullptr;
  uint64_t size = std::strtoull(length.c_str(), &end, 10);
  if (length.empty() || *end != '\0') {
    return Corrupt("b2: " + what + ": answer without a Content-Length");
  }
  return size;
}

}  // namespace

Result<B2Config> ParseB2Location(const std::string& location) {
  if (location.rfind("b2:", 0) != 0) return Invalid("b2: invalid format, want: b2:bucket-name[:path]");
  std::string rest = location.substr(3);
  size_t colon = rest.find(':');
  B2Config config;
  config.bucket = rest.substr(0, colon);
  STASH_RETURN_IF_ERROR(CheckBucketName(config.bucket));
  if (colon != std::string::npos) config.prefix = http::CleanPath(rest.substr(colon + 1));
  return config;
}

Status B2ConfigFromSettings(B2Config& config, const BackendOptions& settings) {
  config.key_id = settings.Get("B2_ACCOUNT_ID");
  config.key = settings.Get("B2_ACCOUNT_KEY");
  if (config.key_id.empty()) {
    return Invalid("unable to open B2 backend: Account ID ($B2_ACCOUNT_ID) is empty");
  }
  if (config.key.empty()) {
    return Invalid("unable to open B2 backend: Key ($B2_ACCOUNT_KEY) is empty");
  }
  config.api_base = TrimSlash(settings.Get("B2_API_URL", config.api_base));
  return Status::Ok();
}

Result<B2Authorization> ParseB2Authorization(std::string_view text) {
  STASH_ASSIGN_OR_RETURN(auto doc, json::Parse(text, "b2: b2_authorize_account answer"));
  B2Authorization auth;
  auto account = json::String(doc, "accountId");
  auto token = json::String(doc, "authorizationToken");
  auto api = json::String(doc, "apiUrl");
  auto download = json::String(doc, "downloadUrl");
  if (!account || !token || !api || !download) {
    return Corrupt("b2: b2_authorize_account answer lacks accountId, authorizationToken, "
                   "apiUrl or downloadUrl");
  }
  auth = {*account, *token, TrimSlash(*api), TrimSlash(*download), "", ""};
  // v2 answers name the one bucket a restricted key may use (null if any).
  if (const auto* allowed = json::Member(doc, "allowed"); allowed && allowed->IsObject()) {
    auth.allowed_bucket_id = json::String(*allowed, "bucketId").value_or("");
    auth.allowed_bucket_name = json::String(*allowed, "bucketName").value_or("");
  }
  return auth;
}

std::string B2ErrorDetail(std::string_view body) {
  auto doc = json::Parse(body, "b2 error");
  if (doc.ok() && doc->IsObject()) {
    std::string code = json::String(*doc, "code").value_or("");
    std::string message = json::String(*doc, "message").value_or("");
    if (!code.empty()) return message.empty() ? code : code + ": " + message;
  }
  return std::string(body.substr(0, 200));
}

// ---- The backend ----

Result<std::unique_ptr<Backend>> B2Backend::Open(B2Config config, http::HttpOptions options) {
  auto base = http::ParseUrl(config.api_base);
  if (!base.ok()) return base.error().Wrap("b2: bad B2_API_URL");
  return std::unique_ptr<Backend>(new B2Backend(std::move(config), std::move(options)));
}

B2Backend::B2Backend(B2Config config, http::HttpOptions options)
    : config_(std::move(config)), clients_(kBackend, std::move(options)) {}

std::string B2Backend::Location() const {
  return "b2:" + config_.bucket + ":" + config_.prefix;
}

std::string B2Backend::KeyOf(FileType type, const std::string& name) const {
  return ObjectLayout(config_.prefix).Key(type, name);
}

// The current authorization, authorizing first if nothing has yet.
Result<B2Authorization> B2Backend::CurrentAuth(uint64_t* generation) {
  {
    std::lock_guard<std::mutex> lock(auth_mu_);
    if (generation_ > 0) {
      *generation = generation_;
      return auth_;
    }
  }
  STASH_RETURN_IF_ERROR(Reauthorize(0));
  std::lock_guard<std::mutex> lock(auth_mu_);
  *generation = generation_;
  return auth_;
}

// Asks for a new account token unless another thread already replaced the
// one the caller saw fail (`seen_generation`).
Status B2Backend::Reauthorize(uint64_t seen_generation) {
  std::lock_guard<std::mutex> lock(auth_mu_);
  if (generation_ != seen_generation) return Status::Ok();
  http::HttpRequest request;
  request.what = "b2_authorize_account";
  request.headers.emplace_back(
      "Authorization", "Basic " + Base64Encode(AsBytes(config_.key_id + ":" + config_.key)));
  STASH_ASSIGN_OR_RETURN(auto response, clients_.Send(
      config_.api_base + "/b2api/v2/b2_authorize_account", request));
  if (response.status != 200) return Failure(request.what, response);
  STASH_ASSIGN_OR_RETURN(auth_, ParseB2Authorization(AsString(response.body)));
  ++generation_;
  return Status::Ok();
}

// POSTs a JSON body (built from the current authorization) to an API call
// and returns the answer's body; renews an expired token once.
Result<std::string> B2Backend::CallApi(
    const std::string& api, const std::string& what,
    const std::function<std::string(const B2Authorization&)>& body) {
  for (int attempt = 0;; ++attempt) {
    uint64_t generation = 0;
    STASH_ASSIGN_OR_RETURN(auto auth, CurrentAuth(&generation));
    std::string json = body(auth);
    http::HttpRequest request;
    request.method = "POST";
    request.what = what;
    request.body = AsBytes(json);
    request.headers = {{"Authorization", auth.token}, {"Content-Type", "application/json"}};
    STASH_ASSIGN_OR_RETURN(auto response,
                           clients_.Send(auth.api_url + "/b2api/v2/" + api, request));
    if (TokenExpired(response) && attempt == 0) {
      STASH_RETURN_IF_ERROR(Reauthorize(generation));
      continue;
    }
    if (response.status != 200) return Failure(what + " (" + api + ")", response);
    return std::string(AsString(response.body));
  }
}

Result<std::string> B2Backend::FindBucket(const B2Authorization& auth) {
  if (!auth.allowed_bucket_id.empty() && auth.allowed_bucket_name == config_.bucket) {
    return auth.allowed_bucket_id;
  }
  std::string what = "bucket " + config_.bucket;
  STASH_ASSIGN_OR_RETURN(auto text, CallApi("b2_list_buckets", what, [&](const B2Authorization& a) {
    return JsonBody({{"accountId", a.account_id}, {"bucketName", config_.bucket}});
  }));
  STASH_ASSIGN_OR_RETURN(auto doc, json::Parse(text, "b2: b2_list_buckets answer"));
  const auto* buckets = json::Member(doc, "buckets");
  if (buckets && buckets->IsArray()) {
    for (const auto& b : buckets->GetArray()) {
      if (json::String(b, "bucketName") == config_.bucket) {
        if (auto id = json::String(b, "bucketId")) return *id;
      }
    }
  }
  return NotFound("b2: bucket " + config_.bucket + " does not exist");
}

Result<std::string> B2Backend::CreateBucket() {
  STASH_ASSIGN_OR_RETURN(auto text, CallApi("b2_create_bucket", "bucket " + config_.bucket,
                                            [&](const B2Authorization& a) {
    return JsonBody({{"accountId", a.account_id}, {"bucketName", config_.bucket},
                     {"bucketType", "allPrivate"}});
  }));
  STASH_ASSIGN_OR_RETURN(auto doc, json::Parse(text, "b2: b2_create_bucket answer"));
  auto id = json::String(doc, "bucketId");
  if (!id) return Corrupt("b2: b2_create_bucket answer without bucketId");
  return *id;
}

// The bucket's id, looked up once; `create` makes a missing bucket.
Result<std::string> B2Backend::BucketId(bool create) {
  std::lock_guard<std::mutex> lock(bucket_mu_);
  if (!bucket_id_.empty()) return bucket_id_;
  uint64_t generation = 0;
  STASH_ASSIGN_OR_RETURN(auto auth, CurrentAuth(&generation));
  auto found = FindBucket(auth);
  if (!found.ok() && create && found.error().kind() == ErrorKind::kNotFound) found = CreateBucket();
  if (!found.ok()) return found.error();
  bucket_id_ = *found;
  return bucket_id_;
}

// GET or HEAD of a file by name from the download host.
Result<http::HttpResponse> B2Backend::Download(const std::string& method, const std::string& key,
                                               const std::string& range,
                                               const std::string& what, Bytes* reuse_body) {
  for (int attempt = 0;; ++attempt) {
    uint64_t generation = 0;
    STASH_ASSIGN_OR_RETURN(auto auth, CurrentAuth(&generation));
    http::HttpRequest request;
    request.method = method;
    request.what = what;
    request.reuse_body = reuse_body;
    request.headers.emplace_back("Authorization", auth.token);
    if (!range.empty()) request.headers.emplace_back("Range", range);
    std::string url = auth.download_url + "/file/" + http::UriEncode(config_.bucket, false) + "/" +
                      http::UriEncode(key, true);
    STASH_ASSIGN_OR_RETURN(auto response, clients_.Send(url, request));
    // A HEAD answer has no body to tell why; a 401 there is retried too.
    bool expired = TokenExpired(response) || (method == "HEAD" && response.status == 401);
    if (expired && attempt == 0) {
      STASH_RETURN_IF_ERROR(Reauthorize(generation));
      continue;
    }
    return response;
  }
}

Result<FileInfo> B2Backend::StatKey(const std::string& key, const std::string& name) {
  STASH_ASSIGN_OR_RETURN(auto response, Download("HEAD", key, "", key));
  if (response.status != 200) return Failure(key, response);
  STASH_ASSIGN_OR_RETURN(uint64_t size, ContentLength(response, key));
  return FileInfo{name, size};
}

Status B2Backend::Create() {
  STASH_RETURN_IF_ERROR(BucketId(true));
  auto config = StatKey(KeyOf(FileType::kConfig, "config"), "config");
  if (config.ok()) return Conflict("repository " + Location() + " already exists (config file found)");
  if (config.error().kind() != ErrorKind::kNotFound) return config.error();
  return Status::Ok();
}

// Every current file name under `prefix`, following nextFileName.
Result<std::vector<B2Backend::Listed>> B2Backend::ListNames(const std::string& prefix) {
  STASH_ASSIGN_OR_RETURN(std::string bucket, BucketId(false));
  std::vector<Listed> out;
  std::string start;
  do {
    STASH_ASSIGN_OR_RETURN(auto text, CallApi("b2_list_file_names", prefix,
                                              [&](const B2Authorization&) {
      return JsonBody({{"bucketId", bucket}, {"prefix", prefix}, {"startFileName", start}},
                      config_.list_page);
    }));
    STASH_ASSIGN_OR_RETURN(auto doc, json::Parse(text, "b2: b2_list_file_names answer"));
    const auto* files = json::Member(doc, "files");
    if (!files || !files->IsArray()) return Corrupt("b2: b2_list_file_names answer without files");
    for (const auto& f : files->GetArray()) {
      // Hidden names ("hide") and folder markers are not files.
      if (json::String(f, "action").value_or("upload") != "upload") continue;
      auto name = json::String(f, "fileName");
      auto size = json::Uint(f, "contentLength");
      if (!name || !size) return Corrupt("b2: listing entry without fileName or contentLength");
      out.push_back({*name, json::String(f, "fileId").value_or(""), *size});
    }
    std::string next = json::String(doc, "nextFileName").value_or("");
    if (!next.empty() && next <= start) return Corrupt("b2: listing does not advance at " + next);
    start = next;
  } while (!start.empty());
  return out;
}

Result<std::vector<FileInfo>> B2Backend::List(FileType type) {
  if (type == FileType::kConfig) return ListConfig(*this);
  ObjectLayout layout(config_.prefix);
  STASH_ASSIGN_OR_RETURN(auto files, ListNames(layout.ListPrefix(type)));
  std::vector<FileInfo> out;
  for (auto& f : files) {
    if (auto name = layout.NameOf(type, f.name)) out.push_back({std::move(*name), f.size});
  }
  return out;
}

Result<FileInfo> B2Backend::Stat(FileType type, const std::string& name) {
  return StatKey(KeyOf(type, name), name);
}

Status B2Backend::ReadInto(FileType type, const std::string& name, uint64_t offset, uint64_t length,
                           Bytes& out) {
  std::string key = KeyOf(type, name);
  STASH_ASSIGN_OR_RETURN(auto response, Download("GET", key, http::RangeValue(offset, length), key, &out));
  if (!http::IsRangedAnswer(response)) return Failure(key, response);
  STASH_ASSIGN_OR_RETURN(out, FinishRead(*this, type, name, offset, length,
                                         http::RangedBody(response, offset, length, "b2", key)));
  return Status::Ok();
}

// An idle upload URL, or a new one from b2_get_upload_url.
Result<B2Backend::UploadTarget> B2Backend::TakeUploadTarget() {
  {
    std::lock_guard<std::mutex> lock(upload_mu_);
    if (!idle_uploads_.empty()) {
      UploadTarget target = std::move(idle_uploads_.back());
      idle_uploads_.pop_back();
      return target;
    }
  }
  STASH_ASSIGN_OR_RETURN(std::string bucket, BucketId(false));
  STASH_ASSIGN_OR_RETURN(auto text, CallApi("b2_get_upload_url", "upload URL",
                                            [&](const B2Authorization&) {
    return JsonBody({{"bucketId", bucket}});
  }));
  STASH_ASSIGN_OR_RETURN(auto doc, json::Parse(text, "b2: b2_get_upload_url answer"));
  auto url = json::String(doc, "uploadUrl");
  auto token = json::String(doc, "authorizationToken");
  if (!url || !token) return Corrupt("b2: b2_get_upload_url answer without uploadUrl or token");
  return UploadTarget{*url, *token};
}

// One upload; false when the upload URL went bad (expired or busy) and a
// fresh one should be tried.
Result<bool> B2Backend::UploadOnce(const std::string& key, ByteView data, const std::string& sha1,
                                   const std::string& what, const http::HttpRequest::FileBody& file) {
  STASH_ASSIGN_OR_RETURN(UploadTarget target, TakeUploadTarget());
  http::HttpRequest request;
  request.method = "POST";
  request.what = what;
  request.body = data;
  request.body_file = file;
  request.headers = {{"Authorization", target.token},
                     {"X-Bz-File-Name", http::UriEncode(key, true)},
                     {"Content-Type", "application/octet-stream"},
                     {"X-Bz-Content-Sha1", sha1}};
  STASH_ASSIGN_OR_RETURN(auto response, clients_.Send(target.url, request));
  if (response.status == 200) {
    std::lock_guard<std::mutex> lock(upload_mu_);
    idle_uploads_.push_back(std::move(target));
    return true;
  }
  if (response.status == 401) {
    // Upload tokens expire together; the idle ones are no better.
    std::lock_guard<std::mutex> lock(upload_mu_);
    idle_uploads_.clear();
    return false;
  }
  if (response.status == 503 || response.status == 408) return false;
  return Failure(what, response);
}

Status B2Backend::Write(FileType type, const std::string& name, ByteView data) {
  return WriteNew(*this, type, name, data, [&] {
    return UploadNew(KeyOf(type, name), name, data, HexEncode(Digest(DigestKind::kSha1, data)));
  });
}

// A pack goes from its file a piece at a time, never all in memory; its
// SHA-1, which B2 checks, is read from the file first.
Status B2Backend::WriteFromFile(FileType type, const std::string& name, int fd, uint64_t size) {
  if (size == 0) return Backend::WriteFromFile(type, name, fd, size);
  STASH_ASSIGN_OR_RETURN(Bytes sha1, FileDigest(DigestKind::kSha1, fd, size));
  return WriteNewFromFile(*this, type, name, fd, size, [&] {
    return UploadNew(KeyOf(type, name), name, {}, HexEncode(sha1), {fd, size});
  });
}

// B2 keeps every upload of a name as a version and has no create-only
// upload: look first.
Status B2Backend::UploadNew(const std::string& key, const std::string& name, ByteView data,
                            const std::string& sha1, const http::HttpRequest::FileBody& file) {
  auto existing = StatKey(key, name);
  if (existing.ok()) return Conflict("b2: " + key + ": file already exists");
  if (existing.error().kind() != ErrorKind::kNotFound) return existing.error();
  for (int attempt = 0; attempt < 3; ++attempt) {
    STASH_ASSIGN_OR_RETURN(bool done, UploadOnce(key, data, sha1, key, file));
    if (done) return Status::Ok();
  }
  return IOError("b2: " + key + ": upload refused three times (expired or busy upload URLs)");
}

// All versions of one name (B2 keeps each upload as a version).
Result<std::vector<B2Backend::Listed>> B2Backend::ListVersions(const std::string& key) {
  STASH_ASSIGN_OR_RETURN(std::string bucket, BucketId(false));
  std::vector<Listed> out;
  std::string start_name = key, start_id;
  while (true) {
    STASH_ASSIGN_OR_RETURN(auto text, CallApi("b2_list_file_versions", key,
                                              [&](const B2Authorization&) {
      return JsonBody({{"bucketId", bucket}, {"prefix", key}, {"startFileName", start_name},
                       {"startFileId", start_id}}, config_.list_page);
    }));
    STASH_ASSIGN_OR_RETURN(auto doc, json::Parse(text, "b2: b2_list_file_versions answer"));
    const auto* files = json::Member(doc, "files");
    if (!files || !files->IsArray()) return Corrupt("b2: b2_list_file_versions answer without files");
    for (const auto& f : files->GetArray()) {
      auto name = json::String(f, "fileName");
      auto id = json::String(f, "fileId");
      if (name == key && id) out.push_back({*name, *id, 0});
    }
    std::string next_name = json::String(doc, "nextFileName").value_or("");
    std::string next_id = json::String(doc, "nextFileId").value_or("");
    if (next_name != key || next_id.empty() || next_id == start_id) break;
    start_id = next_id;
  }
  return out;
}

Status B2Backend::Remove(FileType type, const std::string& name) {
  std::string key = KeyOf(type, name);
  STASH_ASSIGN_OR_RETURN(auto versions, ListVersions(key));
  if (versions.empty()) return NotFound("b2: " + key + ": file does not exist");
  for (const auto& v : versions) {
    auto done = CallApi("b2_delete_file_version", key, [&](const B2Authorization&) {
      return JsonBody({{"fileName", v.name}, {"fileId", v.id}});
    });
    // Gone already (another remover, or an earlier attempt that got through).
    bool gone = !done.ok() && (done.error().kind() == ErrorKind::kNotFound ||
                               done.error().message().find("file_not_present") != std::string::npos);
    if (!done.ok() && !gone) return done.error();
  }
  return Status::Ok();
}

}  // namespace stash
