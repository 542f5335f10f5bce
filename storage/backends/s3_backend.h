// S3Backend: a repository in an S3 bucket (AWS or a compatible server),
// with requests signed by AWS Signature Version 4.
//
// Locations, parsed as restic 0.14 parses them:
//   s3:https://host[:port]/bucket[/prefix]   (s3:http://... for plain HTTP)
//   s3:host[:port]/bucket[/prefix]           (HTTPS)
//   s3://host/bucket[/prefix]                (HTTPS)
// Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN; the region from AWS_DEFAULT_REGION, else from an AWS
// endpoint's name, else us-east-1. STASH_S3_BUCKET_LOOKUP = auto | dns |
// path plays restic's `-o s3.bucket-lookup`: auto uses virtual-hosted
// addressing (bucket.host) on amazonaws.com and path-style elsewhere.
//
// Objects use restic's default layout under the prefix; repositories in
// the legacy S3 layout (key/, lock/, snapshot/, data/<id>) are detected on
// open and used as they are. Every body is hashed and signed (no streaming
// chunk signatures), which every S3 server accepts.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "storage/backends/backend.h"
#include "storage/backends/backend_options.h"
#include "net/http_client.h"
#include "storage/backends/sigv4.h"
#include "storage/backends/xml.h"

namespace stash {

struct S3Config {
  std::string endpoint;  // "host" or "host:port"
  bool use_http = false;
  std::string bucket;
  std::string prefix;    // cleaned: no leading, trailing or doubled '/'
  std::string region;    // empty: derived (see above)
  http::SigV4Credentials credentials;
  enum class Lookup { kAuto, kDns, kPath } lookup = Lookup::kAuto;
  // List with ListObjects (v1, markers) instead of ListObjectsV2, for
  // servers whose V2 listing fails (s3rver past 1000 keys): restic's
  // `-o s3.list-objects-v1`, set by STASH_S3_LIST_OBJECTS_V1=true.
  bool list_v1 = false;
};

// Parses an "s3:" location; credentials and region are left empty.
Result<S3Config> ParseS3Location(const std::string& location);

// Fills credentials, region and bucket lookup from the settings (restic's
// variable names); kInvalid naming the variable when a key is missing.
Status S3ConfigFromSettings(S3Config& config, const BackendOptions& settings);

// The region implied by an AWS endpoint ("s3.eu-west-1.amazonaws.com" →
// "eu-west-1"), or "" when the name does not tell.
std::string RegionFromEndpoint(const std::string& endpoint);

// Whether requests name the bucket in the host (true) or the path.
bool UseVirtualHost(const S3Config& config);

enum class S3Layout { kDefault, kLegacy };

// The object key of a file relative to the prefix: "keys/<id>",
// "data/ab/<id>" (default) or "key/<id>", "data/<id>" (legacy).
std::string S3RelativeKey(S3Layout layout, FileType type, const std::string& name);

class S3Backend : public Backend {
 public:
  static Result<std::unique_ptr<Backend>> Open(S3Config config, http::HttpOptions options);

  std::string Location() const override;
  Status Create() override;
  Result<std::vector<FileInfo>> List(FileType type) override;
  Result<FileInfo> Stat(FileType type, const std::string& name) override;
  Status ReadInto(FileType type, const std::string& name, uint64_t offset, uint64_t length,
                  Bytes& out) override;
  Status Write(FileType type, const std::string& name, ByteView data) override;
  Status WriteFromFile(FileType type, const std::string& name, int fd, uint64_t size) override;
  Status Remove(FileType type, const std::string& name) override;

 private:
  S3Backend(S3Config config, std::unique_ptr<http::HttpClient> client);
  // A signed request for `key` (the full object key; "" = the bucket).
  // The body's SHA-256 is computed unless given (as hex).
  http::HttpRequest NewRequest(const std::string& method, const std::string& key,
                               const http::HeaderList& query, const std::string& what,
                               ByteView body = {}, std::string body_sha256 = {}) const;
  Result<http::HttpResponse> Send(const http::HttpRequest& request) const;
  Error Failure(const std::string& what, const http::HttpResponse& response) const;
  std::string FullKey(const std::string& relative) const;
  Result<std::vector<http::ListedObject>> ListKeys(const std::string& dir);
  Status EnsureLayout();
  Status DetectLayout();
  Status EnsureBucket();
  Result<FileInfo> StatKey(const std::string& relative, const std::string& name);
  // Creates `relative` from `data`, or from `file` when its fd is set.
  Status PutNew(const std::string& relative, const std::string& name, ByteView data,
                std::string data_sha256 = {}, const http::HttpRequest::FileBody& file = {});
  std::string KeyOf(FileType type, const std::string& name) const;

  S3Config config_;
  std::unique_ptr<http::HttpClient> client_;
  std::once_flag layout_once_;
  Status layout_status_;
  S3Layout layout_ = S3Layout::kDefault;
};

}  // namespace stash
