// B2Backend: a repository in a Backblaze B2 bucket, over B2's native API
// (v2: b2_authorize_account, b2_list_buckets, b2_get_upload_url, ...).
//
// Location, parsed as restic 0.14 parses it: "b2:<bucket>[:<prefix>]",
// the prefix cleaned with a leading '/' trimmed ("b2:bucket:/a/b" keeps
// its files under "a/b/"). Credentials come from B2_ACCOUNT_ID (the key
// id) and B2_ACCOUNT_KEY. Our own setting B2_API_URL replaces
// https://api.backblazeb2.com as the place to authorize, so tests can
// point the backend at a local server.
//
// B2 keeps every upload as a new version and has no "create if absent",
// so Write checks for the file first (kConflict) as restic does, and
// Remove deletes every version of the name. An expired account token
// (401 expired_auth_token) is renewed once per request; upload URLs are
// reused one thread at a time, as B2 asks.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/backends/backend.h"
#include "storage/backends/backend_options.h"
#include "net/client_set.h"

namespace stash {

struct B2Config {
  std::string bucket;
  std::string prefix;  // cleaned: no leading, trailing or doubled '/'
  std::string key_id;
  std::string key;
  std::string api_base = "https://api.backblazeb2.com";
  int list_page = 1000;  // maxFileCount per listing call
};

// Parses a "b2:" location; credentials are left empty.
Result<B2Config> ParseB2Location(const std::string& location);

// Fills credentials and B2_API_URL from the settings; kInvalid naming the
// variable when one is missing.
Status B2ConfigFromSettings(B2Config& config, const BackendOptions& settings);

// What b2_authorize_account answers.
struct B2Authorization {
  std::string account_id;
  std::string token;
  std::string api_url;       // e.g. "https://api001.backblazeb2.com"
  std::string download_url;  // e.g. "https://f001.backblazeb2.com"
  std::string allowed_bucket_id;    // set when the key is limited to one bucket
  std::string allowed_bucket_name;
};

Result<B2Authorization> ParseB2Authorization(std::string_view json);

// "code: message" from a B2 error body ({"status":..,"code":..,"message":..}),
// or the start of the body when it is not one.
std::string B2ErrorDetail(std::string_view body);

class B2Backend : public Backend {
 public:
  static Result<std::unique_ptr<Backend>> Open(B2Config config, http::HttpOptions options);

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
  struct UploadTarget {
    std::string url;
    std::string token;
  };
  struct Listed {
    std::string name, id;
    uint64_t size = 0;
  };

  B2Backend(B2Config config, http::HttpOptions options);
  Result<B2Authorization> CurrentAuth(uint64_t* generation);
  Status Reauthorize(uint64_t seen_generation);
  Result<std::string> CallApi(const std::string& api, const std::string& what,
                              const std::function<std::string(const B2Authorization&)>& body);
  Result<std::string> BucketId(bool create);
  Result<std::string> FindBucket(const B2Authorization& auth);
  Result<std::string> CreateBucket();
  // `reuse_body`: a buffer the response body may fill (HttpRequest::reuse_body).
  Result<http::HttpResponse> Download(const std::string& method, const std::string& key,
                                      const std::string& range, const std::string& what,
                                      Bytes* reuse_body = nullptr);
  Result<UploadTarget> TakeUploadTarget();
  Result<bool> UploadOnce(const std::string& key, ByteView data, const std::string& sha1,
                          const std::string& what, const http::HttpRequest::FileBody& file = {});
  Result<std::vector<Listed>> ListNames(const std::string& prefix);
  Result<std::vector<Listed>> ListVersions(const std::string& key);
  Result<FileInfo> StatKey(const std::string& key, const std::string& name);
  // Creates `key` from `data`, or from `file` when its fd is set, whose
  // SHA-1 (hex) is `sha1`.
  Status UploadNew(const std::string& key, const std::string& name, ByteView data, const std::string& sha1,
                   const http::HttpRequest::FileBody& file = {});
  std::string KeyOf(FileType type, const std::string& name) const;

  B2Config config_;
  http::ClientSet clients_;
  std::mutex auth_mu_;  // guards auth_ and generation_; held while authorizing
  B2Authorization auth_;
  uint64_t generation_ = 0;  // 0: not authorized yet
  std::mutex bucket_mu_;
  std::string bucket_id_;
  std::mutex upload_mu_;
  std::vector<UploadTarget> idle_uploads_;
};

}  // namespace stash
