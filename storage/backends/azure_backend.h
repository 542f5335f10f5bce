// AzureBackend: a repository in an Azure Blob Storage container.
//
// Location, parsed as restic 0.14 parses it:
//   azure:<container>:/<prefix>     ("azure:<container>:/" is the container root)
// Settings (restic's variable names, read through BackendOptions):
//   AZURE_ACCOUNT_NAME   the storage account (required)
//   AZURE_ACCOUNT_KEY    its base64 access key: requests are signed with
//                        Shared Key (storage/http/azure_sharedkey.h)
//   AZURE_ACCOUNT_SAS    used when no key is set: a SAS token ("sv=...&sig=..."),
//                        appended to every request's query instead of signing
//   AZURE_ENDPOINT       our own, not restic's: the service URL, by default
//                        https://<account>.blob.core.windows.net. Emulators
//                        take the account in the path, e.g. Azurite's
//                        http://127.0.0.1:10000/devstoreaccount1
//
// Blobs use restic's default layout under the prefix. Files up to 256 MiB
// are one Put Blob; larger ones are uploaded as blocks and committed with
// one Put Block List, so either way a blob appears whole or not at all.
// Writes carry If-None-Match: * so an existing file is never replaced.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/backends/backend.h"
#include "storage/backends/backend_options.h"
#include "net/http_client.h"
#include "storage/backends/sigv4.h"
#include "storage/backends/xml.h"

namespace stash {

struct AzureConfig {
  std::string container;
  std::string prefix;    // cleaned: no leading, trailing or doubled '/'
  std::string account;
  Bytes key;             // the decoded account key; empty when `sas` is used
  std::string sas;       // a SAS query string without the leading '?'
  std::string endpoint;  // "https://account.blob.core.windows.net" or AZURE_ENDPOINT
  // Bodies larger than this go up in blocks of `block_size`. Tests shrink
  // both with STASH_AZURE_BLOCK_SIZE (bytes).
  uint64_t max_single_put = 256ull << 20;
  uint64_t block_size = 64ull << 20;
};

// Parses an "azure:" location; account, key and endpoint are left empty.
Result<AzureConfig> ParseAzureLocation(const std::string& location);

// Fills account, key or SAS and endpoint from the settings; kInvalid naming
// the variable when one is missing or malformed.
Status AzureConfigFromSettings(AzureConfig& config, const BackendOptions& settings);

struct AzureListPage {
  std::vector<http::ListedObject> blobs;  // full blob names and sizes
  std::string next_marker;                // "" on the last page
};

// Parses one List Blobs answer (<EnumerationResults>); kCorrupt on a blob
// without a name or a valid Content-Length.
Result<AzureListPage> ParseAzureListPage(std::string_view xml);

class AzureBackend : public Backend {
 public:
  static Result<std::unique_ptr<Backend>> Open(AzureConfig config, http::HttpOptions options);

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
  AzureBackend(AzureConfig config, std::string base_path, std::unique_ptr<http::HttpClient> client);
  // A request for `relative` (a path below the prefix; "" = the container),
  // signed per attempt unless a SAS is used.
  http::HttpRequest NewRequest(const std::string& method, const std::string& relative,
                               const http::HeaderList& query, http::HeaderList headers,
                               ByteView body = {}) const;
  Error Failure(const std::string& what, const http::HttpResponse& response) const;
  std::string BlobName(const std::string& relative) const;
  Result<std::vector<http::ListedObject>> ListBlobs(const std::string& dir);
  Status EnsureContainer();
  Result<FileInfo> StatBlob(const std::string& relative, const std::string& name);
  // One Put Blob of `data`, or of `file` when its fd is set.
  Result<http::HttpResponse> PutBlob(const std::string& relative, ByteView data,
                                     const http::HttpRequest::FileBody& file = {});
  Result<http::HttpResponse> PutBlocks(const std::string& relative, ByteView data);
  Status Created(const std::string& relative, const http::HttpResponse& response);

  AzureConfig config_;
  std::string base_path_;  // the endpoint's path: "" or "/devstoreaccount1"
  std::unique_ptr<http::HttpClient> client_;
};

}  // namespace stash
