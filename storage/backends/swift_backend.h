// SwiftBackend: a repository in an OpenStack Swift container.
//
// Location, as restic 0.14 parses it: "swift:<container>:/<prefix>" (the
// prefix must start with '/', which is dropped). Settings use restic's
// variable names, and the first one set wins as in restic (OS_* before ST_*):
//   v1 auth: ST_AUTH, ST_USER, ST_KEY (GET the auth URL with X-Auth-User
//            and X-Auth-Key; the answer's X-Storage-Url and X-Auth-Token);
//   Keystone v2 (auth URL containing "v2"): OS_AUTH_URL, OS_USERNAME,
//            OS_PASSWORD, OS_TENANT_ID or OS_TENANT_NAME, OS_REGION_NAME;
//   Keystone v3 (auth URL containing "v3"): additionally
//            OS_USER_DOMAIN_NAME, OS_PROJECT_NAME, OS_PROJECT_DOMAIN_NAME;
//   token:   OS_STORAGE_URL and OS_AUTH_TOKEN, used as they are.
// The auth version follows the URL as in ncw/swift, which restic uses.
// A 401 from the storage server renews the token once per request.
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

struct SwiftConfig {
  std::string container;
  std::string prefix;  // cleaned: no leading, trailing or doubled '/'
  enum class Auth { kV1, kV2, kV3, kToken } auth = Auth::kV1;
  std::string auth_url, user, key;        // v1, v2, v3
  std::string tenant_id, tenant_name;     // v2; v3 project (OS_PROJECT_NAME)
  std::string region;                     // v2, v3: the catalog endpoint's region
  std::string user_domain, project_domain;  // v3
  std::string storage_url, token;         // token auth
  int list_limit = 1000;                  // names per listing request
};

// Parses a "swift:" location; settings are left empty.
Result<SwiftConfig> ParseSwiftLocation(const std::string& location);

// Fills the auth settings; kInvalid naming the variables when some are missing.
Status SwiftConfigFromSettings(SwiftConfig& config, const BackendOptions& settings);

struct SwiftSession {
  std::string storage_url;  // ".../v1/AUTH_<account>", no trailing '/'
  std::string token;
};

// The JSON bodies Keystone wants (POST <auth>/tokens, <auth>/auth/tokens).
std::string KeystoneV2Request(const SwiftConfig& config);
std::string KeystoneV3Request(const SwiftConfig& config);

// The session from a Keystone answer: the object-store endpoint of the
// catalog in `region` (any region when empty); v2 takes the publicURL, v3
// the "public" interface, with the token from the X-Subject-Token header.
Result<SwiftSession> ParseKeystoneV2(std::string_view json, const std::string& region);
Result<SwiftSession> ParseKeystoneV3(std::string_view json, const std::string& subject_token,
                                     const std::string& region);

// A container listing (GET ?format=json): object names (full, with the
// prefix) and sizes; "subdir" entries are skipped.
Result<std::vector<FileInfo>> ParseSwiftListing(std::string_view json);

class SwiftBackend : public Backend {
 public:
  static Result<std::unique_ptr<Backend>> Open(SwiftConfig config, http::HttpOptions options);

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
  SwiftBackend(SwiftConfig config, http::HttpOptions options);
  Result<SwiftSession> CurrentSession(uint64_t* generation);
  Status Reauthenticate(uint64_t seen_generation);
  Result<SwiftSession> Authenticate();
  Result<SwiftSession> AuthenticateV1();
  Result<SwiftSession> AuthenticateKeystone();
  // Sends `request` to <storage URL>/<container>[/<key>][?query].
  Result<http::HttpResponse> Send(http::HttpRequest request, const std::string& key,
                                  const std::string& query);
  Result<FileInfo> StatKey(const std::string& key, const std::string& name);
  // Creates `key` from `data`, or from `file` when its fd is set, whose MD5 is `md5_hex`.
  Status PutNew(const std::string& key, const std::string& name, ByteView data, std::string md5_hex,
                const http::HttpRequest::FileBody& file = {});
  std::string KeyOf(FileType type, const std::string& name) const;

  SwiftConfig config_;
  http::ClientSet clients_;
  std::mutex mu_;  // guards session_ and generation_; held while authenticating
  SwiftSession session_;
  uint64_t generation_ = 0;  // 0: not authenticated yet
};

}  // namespace stash
