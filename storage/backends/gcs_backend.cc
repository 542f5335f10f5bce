#include "storage/backends/gcs_backend.h"

#include "storage/backends/object_store.h"

#include <openssl/evp.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "crypto/digest.h"
#include "crypto/encoding.h"
#include "crypto/id.h"
#include "net/ranged_read.h"
#include "base/json_util.h"

namespace stash {
namespace {

constexpr char kBackend[] = "gs";

bool IsSuccess(int status) { return status >= 200 && status < 300; }

// The JSON API writes 64-bit numbers as strings ("size": "1234").
std::optional<uint64_t> SizeField(const rapidjson::Value& object) {
  const rapidjson::Value* size = json::Member(object, "size");
  if (!size) return std::nullopt;
  if (size->IsUint64()) return size->GetUint64();
  if (!size->IsString() || size->GetStringLength() == 0) return std::nullopt;
  char* end = nullptr;
  uint64_t n = std::strtoull(size->GetString(), &end, 10);
  if (*end != '\0') return std::nullopt;
  return n;
}

// What we compare of an object's metadata.
struct ObjectMeta {
  uint64_t size = 0;
  std::string md5;  // base64, "" when the server gives none
};

Result<ObjectMeta> ParseMeta(const http::HttpResponse& response, const std::string& what) {
  auto doc = json::Parse(AsString(response.body), "gs: " + what + ": metadata");
  if (!doc.ok()) return doc.error();
  auto size = doc->IsObject() ? SizeField(*doc) : std::nullopt;
  if (!size) return Corrupt("gs: " + what + ": metadata without a size");
  return ObjectMeta{*size, json::String(*doc, "md5Hash").value_or("")};
}


Result<std::string> ReadKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Invalid("gs: cannot read GOOGLE_APPLICATION_CREDENTIALS file " + path + ": " +
                   std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string BucketJson(const std::string& bucket) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("name");
  w.String(bucket.c_str());
  w.EndObject();
  return buf.GetString();
}

}  // namespace

Result<GcsConfig> ParseGcsLocation(const std::string& location) {
  if (!location.starts_with("gs:")) return Invalid("gs: invalid format: " + location);
  std::string rest = location.substr(3);
  size_t colon = rest.find(':');
  if (colon == std::string::npos) {
    return Invalid("gs: invalid format: bucket name or path not found in " + location);
  }
  GcsConfig config;
  config.bucket = rest.substr(0, colon);
  if (config.bucket.empty()) return Invalid("gs: invalid format: bucket name not found in " + location);
  config.prefix = http::CleanPath(std::string_view(rest).substr(colon + 1));
  return config;
}

Status GcsConfigFromSettings(GcsConfig& config, const BackendOptions& settings) {
  config.project_id = settings.Get("GOOGLE_PROJECT_ID");
  std::string emulator = settings.Get("STORAGE_EMULATOR_HOST");
  if (!emulator.empty()) {
    config.emulator = true;
    // As Google's client libraries read it: a bare "host:port" is HTTP.
    config.endpoint = emulator.find("://") == std::string::npos ? "http://" + emulator : emulator;
  }
  config.access_token = settings.Get("GOOGLE_ACCESS_TOKEN");
  if (!config.access_token.empty()) return Status::Ok();
  config.key_json = settings.Get("GOOGLE_SERVICE_ACCOUNT_JSON_KEY");
  config.key_source = "GOOGLE_SERVICE_ACCOUNT_JSON_KEY";
  if (!config.key_json.empty()) return Status::Ok();
  std::string path = settings.Get("GOOGLE_APPLICATION_CREDENTIALS");
  if (!path.empty()) {
    STASH_ASSIGN_OR_RETURN(config.key_json, ReadKeyFile(path));
    config.key_source = "GOOGLE_APPLICATION_CREDENTIALS file " + path;
    return Status::Ok();
  }
  config.key_source.clear();
  if (config.emulator) return Status::Ok();
  return Invalid("unable to open GCS backend: no credentials: set GOOGLE_APPLICATION_CREDENTIALS "
                 "(a service account key file), GOOGLE_SERVICE_ACCOUNT_JSON_KEY or "
                 "GOOGLE_ACCESS_TOKEN");
}

std::string GcsObjectName(const GcsConfig& config, FileType type, const std::string& name) {
  std::string relative = ObjectPath(type, name);
  return config.prefix.empty() ? relative : config.prefix + "/" + relative;
}

// ---- The backend ----

Result<std::unique_ptr<Backend>> GcsBackend::Open(GcsConfig config, http::HttpOptions options) {
  std::unique_ptr<http::TokenSource> tokens;
  if (!config.access_token.empty() || config.key_json.empty()) {
    tokens = http::StaticTokenSource(config.access_token);
  } else {
    STASH_ASSIGN_OR_RETURN(auto account, http::ParseServiceAccount(config.key_json, config.key_source));
    if (config.project_id.empty()) config.project_id = account.project_id;
    STASH_ASSIGN_OR_RETURN(tokens, http::ServiceAccountTokens::Create(
                                       std::move(account), http::kGcsReadWriteScope, options));
  }
  return Open(std::move(config), std::move(options), std::move(tokens));
}

Result<std::unique_ptr<Backend>> GcsBackend::Open(GcsConfig config, http::HttpOptions options,
                                                  std::unique_ptr<http::TokenSource> tokens) {
  auto url = http::ParseUrl(config.endpoint);
  if (!url.ok()) return url.error().Wrap("gs: bad endpoint \"" + config.endpoint + "\"");
  if (!url->query.empty()) return Invalid("gs: endpoint must not have a query: " + config.endpoint);
  std::string base_path = url->path;
  while (!base_path.empty() && base_path.back() == '/') base_path.pop_back();
  STASH_ASSIGN_OR_RETURN(auto client, http::HttpClient::Create(kBackend, *url, std::move(options)));
  return std::unique_ptr<Backend>(new GcsBackend(std::move(config), std::move(base_path),
                                                 std::move(client), std::move(tokens)));
}

GcsBackend::GcsBackend(GcsConfig config, std::string base_path,
                       std::unique_ptr<http::HttpClient> client,
                       std::unique_ptr<http::TokenSource> tokens)
    : config_(std::move(config)), base_path_(std::move(base_path)), client_(std::move(client)),
      tokens_(std::move(tokens)) {}

std::string GcsBackend::Location() const {
  return "gs:" + config_.bucket + ":/" + config_.prefix;
}

std::string GcsBackend::ObjectTarget(const std::string& object, const std::string& query) const {
  std::string target = base_path_ + "/storage/v1/b/" + http::UriEncode(config_.bucket, false) +
                       "/o/" + http::UriEncode(object, false);
  return query.empty() ? target : target + "?" + query;
}

// Adds the bearer token (fetched or renewed here, so every request of a
// long backup carries a live one) and sends.
Result<http::HttpResponse> GcsBackend::Send(http::HttpRequest request) {
  auto token = tokens_->Token();
  if (!token.ok()) return token.error();  // it names the backend and the account
  if (!token->empty()) request.headers.emplace_back("Authorization", "Bearer " + *token);
  return client_->Do(request);
}

// "gs: keys/: 403 Forbidden: stash@p.iam.gserviceaccount.com does not have
// storage.objects.list access to the Google Cloud Storage bucket."
Error GcsBackend::Failure(const std::string& what, const http::HttpResponse& response) const {
  std::string detail;
  auto doc = json::Parse(AsString(response.body), "error");
  if (doc.ok() && doc->IsObject()) {
    const rapidjson::Value* error = json::Member(*doc, "error");
    if (error && error->IsObject()) detail = json::String(*error, "message").value_or("");
  }
  if (detail.empty()) detail = response.BodyText();
  return http::StatusError(kBackend, what, response, detail);
}

Result<uint64_t> GcsBackend::StatObject(const std::string& object, const std::string& what,
                                        std::string* md5) {
  http::HttpRequest request;
  request.target = ObjectTarget(object, "");
  request.what = what;
  STASH_ASSIGN_OR_RETURN(auto response, Send(request));
  if (response.status != 200) return Failure(what, response);
  STASH_ASSIGN_OR_RETURN(ObjectMeta meta, ParseMeta(response, what));
  if (md5) *md5 = meta.md5;
  return meta.size;
}

// Every object under prefix/dir (full names), following page tokens.
Result<std::vector<FileInfo>> GcsBackend::ListObjects(const std::string& dir) {
  std::string full = config_.prefix.empty() ? dir : config_.prefix + "/" + dir;
  std::vector<FileInfo> out;
  std::string page;
  do {
    std::string query = "prefix=" + http::UriEncode(full, false);
    if (!page.empty()) query += "&pageToken=" + http::UriEncode(page, false);
    http::HttpRequest request;
    request.target = base_path_ + "/storage/v1/b/" + http::UriEncode(config_.bucket, false) +
                     "/o?" + query;
    request.what = dir;
    STASH_ASSIGN_OR_RETURN(auto response, Send(request));
    if (response.status != 200) return Failure(dir, response);
    STASH_ASSIGN_OR_RETURN(auto doc, json::Parse(AsString(response.body), "gs: " + dir + ": listing"));
    if (!doc.IsObject()) return Corrupt("gs: " + dir + ": listing is not a JSON object");
    const rapidjson::Value* items = json::Member(doc, "items");  // absent when empty
    if (items && !items->IsArray()) return Corrupt("gs: " + dir + ": listing items is not an array");
    for (rapidjson::SizeType i = 0; items && i < items->Size(); ++i) {
      const rapidjson::Value& item = (*items)[i];
      auto name = item.IsObject() ? json::String(item, "name") : std::nullopt;
      auto size = item.IsObject() ? SizeField(item) : std::nullopt;
      if (!name || !size) return Corrupt("gs: " + dir + ": listing entry without name or size");
      out.push_back({std::move(*name), *size});  // the full object name
    }
    page = json::String(doc, "nextPageToken").value_or("");
  } while (!page.empty());
  return out;
}

// Creates the bucket when it is missing, as restic's init does. A 403 on
// the lookup means it exists but we may not read its metadata: go on.
Status GcsBackend::EnsureBucket() {
  std::string bucket_path = base_path_ + "/storage/v1/b";
  http::HttpRequest get;
  get.target = bucket_path + "/" + http::UriEncode(config_.bucket, false);
  get.what = "bucket " + config_.bucket;
  STASH_ASSIGN_OR_RETURN(auto found, Send(get));
  if (found.status == 200 || found.status == 403) return Status::Ok();
  if (found.status != 404) return Failure(get.what, found);
  if (config_.project_id.empty()) {
    return Invalid("gs: bucket " + config_.bucket +
                   " does not exist; set GOOGLE_PROJECT_ID to have init create it");
  }
  std::string body = BucketJson(config_.bucket);
  http::HttpRequest insert;
  insert.method = "POST";
  insert.target = bucket_path + "?project=" + http::UriEncode(config_.project_id, false);
  insert.headers = {{"Content-Type", "application/json"}};
  insert.body = AsBytes(body);
  insert.what = get.what;
  STASH_ASSIGN_OR_RETURN(auto created, Send(insert));
  // 409: someone created it since we looked, which is as good.
  if (created.status != 200 && created.status != 409) return Failure(insert.what, created);
  return Status::Ok();
}

Status GcsBackend::Create() {
  auto config = Stat(FileType::kConfig, "config");
  if (config.ok()) return Conflict("repository " + Location() + " already exists (config file found)");
  if (config.error().kind() != ErrorKind::kNotFound) return config.error();
  return EnsureBucket();
}

Result<std::vector<FileInfo>> GcsBackend::List(FileType type) {
  if (type == FileType::kConfig) return ListConfig(*this);
  ObjectLayout layout(config_.prefix);
  STASH_ASSIGN_OR_RETURN(auto objects, ListObjects(std::string(FileTypeDir(type)) + "/"));
  std::vector<FileInfo> out;
  for (auto& object : objects) {
    if (auto name = layout.NameOf(type, object.name)) out.push_back({std::move(*name), object.size});
  }
  return out;
}

Result<FileInfo> GcsBackend::Stat(FileType type, const std::string& name) {
  STASH_ASSIGN_OR_RETURN(uint64_t size,
                         StatObject(GcsObjectName(config_, type, name), ObjectPath(type, name)));
  return FileInfo{name, size};
}

Status GcsBackend::ReadInto(FileType type, const std::string& name, uint64_t offset, uint64_t length,
                            Bytes& out) {
  std::string what = ObjectPath(type, name);
  http::HttpRequest request;
  request.target = ObjectTarget(GcsObjectName(config_, type, name), "alt=media");
  request.what = what;
  std::string range = http::RangeValue(offset, length);
  if (!range.empty()) request.headers.emplace_back("Range", range);
  request.reuse_body = &out;
  STASH_ASSIGN_OR_RETURN(auto response, Send(request));
  if (!http::IsRangedAnswer(response)) return Failure(what, response);
  STASH_ASSIGN_OR_RETURN(out, FinishRead(*this, type, name, offset, length,
                                         http::RangedBody(response, offset, length, kBackend, what)));
  return Status::Ok();
}

// The object's metadata from the upload answer must match what we sent:
// a cheap end-to-end check of the transfer.
// (`md5` is the raw digest; an object's "md5Hash" is its base64.)
Status GcsBackend::CheckUpload(const http::HttpResponse& response, const std::string& what,
                               uint64_t size, ByteView md5) {
  STASH_ASSIGN_OR_RETURN(ObjectMeta meta, ParseMeta(response, what));
  if (meta.size != size) {
    return IOError("gs: " + what + ": the server stored " + std::to_string(meta.size) +
                   " bytes of " + std::to_string(size) + " sent");
  }
  if (!meta.md5.empty() && meta.md5 != Base64Encode(md5)) {
    return IOError("gs: " + what + ": the stored object's MD5 differs from the data sent");
  }
  return Status::Ok();
}

Status GcsBackend::Write(FileType type, const std::string& name, ByteView data) {
  return WriteNew(*this, type, name, data, [&] { return Upload(type, name, data, Digest(DigestKind::kMd5, data)); });
}

// A pack goes from its file a piece at a time, never all in memory; its MD5,
// to check the stored object by, is read from the file first.
Status GcsBackend::WriteFromFile(FileType type, const std::string& name, int fd, uint64_t size) {
  if (size == 0) return Backend::WriteFromFile(type, name, fd, size);
  STASH_ASSIGN_OR_RETURN(Bytes md5, FileDigest(DigestKind::kMd5, fd, size));
  return WriteNewFromFile(*this, type, name, fd, size, [&] { return Upload(type, name, {}, md5, {fd, size}); });
}

// One create-only upload (ifGenerationMatch=0): 412 means the name is taken,
// perhaps by our own earlier attempt, which WriteNew recognises.
Status GcsBackend::Upload(FileType type, const std::string& name, ByteView data, ByteView md5,
                          const http::HttpRequest::FileBody& file) {
  std::string what = ObjectPath(type, name);
  std::string object = GcsObjectName(config_, type, name);
  http::HttpRequest request;
  request.method = "POST";
  request.target = base_path_ + "/upload/storage/v1/b/" + http::UriEncode(config_.bucket, false) +
                   "/o?uploadType=media&name=" + http::UriEncode(object, false) +
                   "&ifGenerationMatch=0";
  request.headers = {{"Content-Type", "application/octet-stream"}};
  request.body = data;
  request.body_file = file;
  request.what = what;
  STASH_ASSIGN_OR_RETURN(auto response, Send(request));
  if (response.status == 412) return Conflict("gs: " + what + ": file already exists");
  if (!IsSuccess(response.status)) return Failure(what, response);
  return CheckUpload(response, what, request.BodySize(), md5);
}

Status GcsBackend::Remove(FileType type, const std::string& name) {
  std::string what = ObjectPath(type, name);
  http::HttpRequest request;
  request.method = "DELETE";
  request.target = ObjectTarget(GcsObjectName(config_, type, name), "");
  request.what = what;
  STASH_ASSIGN_OR_RETURN(auto response, Send(request));
  if (!DeleteDone(response)) return Failure(what, response);
  return Status::Ok();
}

}  // namespace stash
