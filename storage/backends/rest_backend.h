// RestBackend: a repository on a server that speaks restic's REST protocol
// (rest-server, `rclone serve restic`); see docs/repository-format.md, 10.1.
//
// Location: "rest:http(s)://[user:password@]host[:port]/path/". User and
// password go out as HTTP basic auth; https verifies the server (system
// CAs plus --cacert). Requests ask for protocol v2, whose listings carry
// sizes; a server that answers a listing in v1 (names only) gets one HEAD
// per file instead.
#pragma once

#include <memory>
#include <string>

#include "storage/backends/backend.h"
#include "net/http_client.h"

namespace stash {

struct RestLocation {
  http::Url url;         // path ends with '/'
  std::string display;   // the location with the password replaced by "***"
};

// Parses "rest:<url>", adding the trailing '/' restic adds.
Result<RestLocation> ParseRestLocation(const std::string& location);

class RestBackend : public Backend {
 public:
  static Result<std::unique_ptr<Backend>> Open(const std::string& location,
                                               http::HttpOptions options);

  std::string Location() const override { return where_.display; }
  Status Create() override;
  Result<std::vector<FileInfo>> List(FileType type) override;
  Result<FileInfo> Stat(FileType type, const std::string& name) override;
  Status ReadInto(FileType type, const std::string& name, uint64_t offset, uint64_t length,
                  Bytes& out) override;
  Status Write(FileType type, const std::string& name, ByteView data) override;
  Status WriteFromFile(FileType type, const std::string& name, int fd, uint64_t size) override;
  Status Remove(FileType type, const std::string& name) override;

 private:
  RestBackend(RestLocation where, std::unique_ptr<http::HttpClient> client);
  http::HttpRequest NewRequest(const std::string& method, const std::string& path,
                               const std::string& what) const;
  Result<http::HttpResponse> Send(const http::HttpRequest& request) const;
  Result<std::vector<FileInfo>> StatEach(FileType type, const std::vector<std::string>& names);
  // Creates the file from `data`, or from `file` when its fd is set.
  Status PostNew(FileType type, const std::string& name, ByteView data,
                 const http::HttpRequest::FileBody& file = {});

  RestLocation where_;
  std::unique_ptr<http::HttpClient> client_;
  std::string authorization_;  // "Basic ..." or empty
};

// The relative URL of a file ("config", "data/<id>": packs are flat here).
std::string RestPath(FileType type, const std::string& name);

// Parses a listing body: v2 (`[{"name":..,"size":..}]`) when `v2`, else v1
// (`["name",...]`, sizes 0). Names that are not restic ids are skipped.
Result<std::vector<FileInfo>> ParseRestListing(std::string_view json, bool v2);

}  // namespace stash
