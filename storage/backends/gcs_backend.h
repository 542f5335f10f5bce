// GcsBackend: a repository in a Google Cloud Storage bucket, through the
// JSON API (storage/v1) with OAuth2 bearer tokens.
//
// Locations, as restic 0.14 parses them: gs:<bucket>:/<prefix> (the prefix
// may be empty: gs:<bucket>:/). Settings by restic's variable names:
//   GOOGLE_ACCESS_TOKEN             a token, sent as it is
//   GOOGLE_SERVICE_ACCOUNT_JSON_KEY a service-account key's JSON (what
//                                   Stash's storage Secret holds)
//   GOOGLE_APPLICATION_CREDENTIALS  the path of such a key file
//   GOOGLE_PROJECT_ID               the project that `init` creates a
//                                   missing bucket in (else the key's
//                                   project_id)
//   STORAGE_EMULATOR_HOST           a test server (fake-gcs-server) in place
//                                   of https://storage.googleapis.com;
//                                   "host:port" means plain HTTP. Without
//                                   credentials, requests carry no token.
// The first of the three credentials that is set wins, in the order above.
// A key's token_uri is used even with the emulator (tests point it at a
// local token endpoint). Application-default credentials beyond these
// (gcloud's user login, the metadata server) are not looked for.
//
// Objects use restic's default layout under the prefix. Uploads carry the
// precondition ifGenerationMatch=0, so the server itself refuses to replace
// an existing file, and a media upload is atomic.
#pragma once

#include <memory>
#include <string>

#include "storage/backends/backend.h"
#include "storage/backends/backend_options.h"
#include "storage/backends/google_auth.h"
#include "net/http_client.h"

namespace stash {

struct GcsConfig {
  std::string bucket;
  std::string prefix;  // cleaned: no leading, trailing or doubled '/'
  std::string project_id;
  std::string endpoint = "https://storage.googleapis.com";
  bool emulator = false;
  std::string access_token;  // GOOGLE_ACCESS_TOKEN
  std::string key_json;      // a service-account key's content
  std::string key_source;    // where key_json came from, for messages
};

// Parses a "gs:" location; settings are left at their defaults.
Result<GcsConfig> ParseGcsLocation(const std::string& location);

// Fills credentials, project and endpoint from the settings. kInvalid
// naming the variables when no credentials are set and no emulator is
// used, or when the key file cannot be read.
Status GcsConfigFromSettings(GcsConfig& config, const BackendOptions& settings);

// The object name of a file: "<prefix>/keys/<id>", "<prefix>/data/ab/<id>".
std::string GcsObjectName(const GcsConfig& config, FileType type, const std::string& name);

class GcsBackend : public Backend {
 public:
  static Result<std::unique_ptr<Backend>> Open(GcsConfig config, http::HttpOptions options);
  // With a token source of the caller's choosing (tests).
  static Result<std::unique_ptr<Backend>> Open(GcsConfig config, http::HttpOptions options,
                                               std::unique_ptr<http::TokenSource> tokens);

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
  GcsBackend(GcsConfig config, std::string base_path, std::unique_ptr<http::HttpClient> client,
             std::unique_ptr<http::TokenSource> tokens);
  Result<http::HttpResponse> Send(http::HttpRequest request);
  Error Failure(const std::string& what, const http::HttpResponse& response) const;
  std::string ObjectTarget(const std::string& object, const std::string& query) const;
  // The object's size, and its MD5 (base64) when `md5` is not null.
  Result<uint64_t> StatObject(const std::string& object, const std::string& what,
                              std::string* md5 = nullptr);
  Result<std::vector<FileInfo>> ListObjects(const std::string& dir);
  // Creates the object from `data`, or from `file` when its fd is set; the
  // stored object must then have the MD5 `md5` (raw).
  Status Upload(FileType type, const std::string& name, ByteView data, ByteView md5,
                const http::HttpRequest::FileBody& file = {});
  Status CheckUpload(const http::HttpResponse& response, const std::string& what,
                     uint64_t size, ByteView md5);
  Status EnsureBucket();

  GcsConfig config_;
  std::string base_path_;  // the endpoint's path without a trailing '/'
  std::unique_ptr<http::HttpClient> client_;
  std::unique_ptr<http::TokenSource> tokens_;
};

}  // namespace stash
