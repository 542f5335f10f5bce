#include "storage/backends/azure_backend.h"

#include "storage/backends/object_store.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <optional>

#include "crypto/encoding.h"
#include "crypto/id.h"
#include "storage/backends/azure_sharedkey.h"
#include "net/ranged_read.h"
#include "storage/backends/xml.h"

namespace stash {
namespace {

constexpr char kBackend[] = "azure";
// A version every Azure region and Azurite 3.x accept, with Content-Length
// signed as "" when zero.
constexpr char kApiVersion[] = "2019-12-12";

std::optional<uint64_t> ParseUint(std::string_view text) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// The first line of an Azure <Message>: the rest is a request id and time.
std::string FirstLine(std::string text) {
  size_t eol = text.find_first_of("\r\n");
  if (eol != std::string::npos) text.resize(eol);
  return text;
}

// Whether `rest` (a blob name below a type's folder) is a file restic
// would write there: "<id>", or "<id[0:2]>/<id>" for packs.
// A block id: base64 of a fixed-width counter (Azure wants every id of a
// blob to have the same length).
std::string BlockId(size_t index) {
  char raw[32];
  std::snprintf(raw, sizeof raw, "stash-block-%08zu", index);
  return Base64Encode(AsBytes(raw));
}

// Azure's rule for container names (3-63 of a-z, 0-9 and single '-', not
// at either end), checked here because the service only says
// "OutOfRangeInput". "$root" is the account's special root container.
bool ValidContainer(std::string_view name) {
  if (name == "$root") return true;
  if (name.size() < 3 || name.size() > 63) return false;
  if (name.front() == '-' || name.back() == '-') return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || (c == '-' && name[i - 1] == '-')) return false;
  }
  return true;
}

}  // namespace

Result<AzureConfig> ParseAzureLocation(const std::string& location) {
  if (!location.starts_with("azure:")) return Invalid("azure: invalid format: " + location);
  std::string_view rest = std::string_view(location).substr(6);
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos) {
    return Invalid("azure: invalid format: bucket name or path not found in " + location);
  }
  AzureConfig config;
  config.container = std::string(rest.substr(0, colon));
  config.prefix = http::CleanPath(rest.substr(colon + 1));
  if (config.container.empty()) return Invalid("azure: container name not found in " + location);
  if (!ValidContainer(config.container)) {
    return Invalid("azure: invalid container name \"" + config.container +
                   "\": 3-63 lower-case letters, digits and single hyphens");
  }
  return config;
}

Status AzureConfigFromSettings(AzureConfig& config, const BackendOptions& settings) {
  config.account = settings.Get("AZURE_ACCOUNT_NAME");
  if (config.account.empty()) {
    return Invalid("unable to open Azure backend: Account name ($AZURE_ACCOUNT_NAME) is empty");
  }
  std::string key = settings.Get("AZURE_ACCOUNT_KEY");
  std::string sas = settings.Get("AZURE_ACCOUNT_SAS");
  if (!key.empty()) {  // as restic: the key wins when both are set
    auto decoded = Base64Decode(key);
    if (!decoded || decoded->empty()) {
      return Invalid("unable to open Azure backend: Account key ($AZURE_ACCOUNT_KEY) "
                     "is not valid base64");
    }
    config.key = std::move(*decoded);
  } else if (!sas.empty()) {
    config.sas = sas[0] == '?' ? sas.substr(1) : sas;
  } else {
    return Invalid("unable to open Azure backend: Account key ($AZURE_ACCOUNT_KEY) is empty "
                   "(and no $AZURE_ACCOUNT_SAS is set)");
  }
  std::string block = settings.Get("STASH_AZURE_BLOCK_SIZE");
  if (!block.empty()) {
    auto size = ParseUint(block);
    if (!size || *size == 0) {
      return Invalid("bad STASH_AZURE_BLOCK_SIZE \"" + block + "\": must be a positive number of bytes");
    }
    config.max_single_put = config.block_size = *size;
  }
  config.endpoint =
      settings.Get("AZURE_ENDPOINT", "https://" + config.account + ".blob.core.windows.net");
  return Status::Ok();
}

Result<AzureListPage> ParseAzureListPage(std::string_view xml) {
  if (xml.find("<EnumerationResults") == std::string_view::npos) {
    return Corrupt("azure: list answer is not an <EnumerationResults> document");
  }
  AzureListPage page;
  for (std::string_view blob : http::XmlElements(xml, "Blob")) {
    auto name = http::XmlText(blob, "Name");
    auto length = http::XmlText(blob, "Content-Length");
    auto size = length ? ParseUint(*length) : std::nullopt;
    if (!name || name->empty() || !size) {
      return Corrupt("azure: list answer has a blob without a name or Content-Length");
    }
    page.blobs.push_back({std::move(*name), *size});
  }
  page.next_marker = http::XmlText(xml, "NextMarker").value_or("");
  return page;
}

// ---- The backend ----

Result<std::unique_ptr<Backend>> AzureBackend::Open(AzureConfig config, http::HttpOptions options) {
  auto url = http::ParseUrl(config.endpoint);
  if (!url.ok()) return url.error().Wrap("azure: bad endpoint \"" + config.endpoint + "\"");
  if (!url->query.empty()) {
    return Invalid("azure: the endpoint must not have a query: " + config.endpoint);
  }
  std::string base = http::CleanPath(url->path);
  if (!base.empty()) base = "/" + base;
  STASH_ASSIGN_OR_RETURN(auto client, http::HttpClient::Create(kBackend, *url, options));
  return std::unique_ptr<Backend>(
      new AzureBackend(std::move(config), std::move(base), std::move(client)));
}

AzureBackend::AzureBackend(AzureConfig config, std::string base_path,
                           std::unique_ptr<http::HttpClient> client)
    : config_(std::move(config)), base_path_(std::move(base_path)), client_(std::move(client)) {}

std::string AzureBackend::Location() const {
  return "azure:" + config_.container + ":/" + config_.prefix;
}

std::string AzureBackend::BlobName(const std::string& relative) const {
  return config_.prefix.empty() ? relative : config_.prefix + "/" + relative;
}

http::HttpRequest AzureBackend::NewRequest(const std::string& method, const std::string& relative,
                                           const http::HeaderList& query, http::HeaderList headers,
                                           ByteView body) const {
  std::string path = base_path_ + "/" + http::UriEncode(config_.container, false);
  if (!relative.empty()) path += "/" + http::UriEncode(BlobName(relative), true);
  std::string query_string = http::CanonicalQuery(query);
  if (!config_.sas.empty()) query_string += (query_string.empty() ? "" : "&") + config_.sas;
  http::HttpRequest r;
  r.method = method;
  r.target = query_string.empty() ? path : path + "?" + query_string;
  r.what = relative.empty() ? "container " + config_.container : relative;
  r.body = body;
  r.headers = std::move(headers);
  r.headers.emplace_back("x-ms-version", kApiVersion);
  if (!config_.sas.empty()) return r;  // the token in the query authorizes it
  // Signed per attempt: the service refuses dates more than 15 minutes old.
  r.sign = [this, path, query](http::HttpRequest& req) {
    req.headers.emplace_back("x-ms-date", http::HttpDate(std::time(nullptr)));
    http::SharedKeyRequest sk{req.method, path, query, req.headers, req.BodySize()};
    req.headers.emplace_back("Authorization",
                             http::SharedKeyAuthorization(config_.account, config_.key, sk));
  };
  return r;
}

// "azure: keys/ab12...: 403 Forbidden: AuthenticationFailed: Server failed
// to authenticate the request. ...". HEAD answers carry the code only in
// the x-ms-error-code header.
Error AzureBackend::Failure(const std::string& what, const http::HttpResponse& response) const {
  std::string_view body = AsString(response.body);
  std::string detail = http::XmlText(body, "Code").value_or(response.Header("x-ms-error-code"));
  if (response.status == 401 || response.status == 403) {
    std::string message = FirstLine(http::XmlText(body, "Message").value_or(""));
    if (!message.empty()) detail += (detail.empty() ? "" : ": ") + message;
    if (detail.empty()) {
      detail = "check AZURE_ACCOUNT_NAME and AZURE_ACCOUNT_KEY or AZURE_ACCOUNT_SAS";
    }
  }
  if (detail.empty()) detail = response.BodyText();
  return http::StatusError(kBackend, what, response, detail);
}

// Creates the container when it is missing, as restic's init does. Looking
// first means a token that may not create containers still works.
Status AzureBackend::EnsureContainer() {
  auto head = NewRequest("HEAD", "", {{"restype", "container"}}, {});
  STASH_ASSIGN_OR_RETURN(auto found, client_->Do(head));
  if (found.status == 200) return Status::Ok();
  if (found.status != 404) return Failure(head.what, found);
  auto put = NewRequest("PUT", "", {{"restype", "container"}}, {});
  STASH_ASSIGN_OR_RETURN(auto created, client_->Do(put));
  // 409 ContainerAlreadyExists: someone else created it meanwhile.
  if (created.status != 201 && created.status != 409) return Failure(put.what, created);
  return Status::Ok();
}

Status AzureBackend::Create() {
  auto config = Stat(FileType::kConfig, "config");
  if (config.ok()) {
    return Conflict("repository " + Location() + " already exists (config file found)");
  }
  if (config.error().kind() != ErrorKind::kNotFound) return config.error();
  return EnsureContainer();
}

// Every blob whose name starts with prefix/dir, page by page.
Result<std::vector<http::ListedObject>> AzureBackend::ListBlobs(const std::string& dir) {
  std::vector<http::ListedObject> out;
  std::string marker;
  do {
    http::HeaderList query = {
        {"restype", "container"}, {"comp", "list"}, {"prefix", BlobName(dir)}};
    if (!marker.empty()) query.emplace_back("marker", marker);
    auto request = NewRequest("GET", "", query, {});
    request.what = dir;
    STASH_ASSIGN_OR_RETURN(auto response, client_->Do(request));
    if (response.status != 200) return Failure(dir, response);
    auto page = ParseAzureListPage(AsString(response.body));
    if (!page.ok()) return page.error().Wrap(std::string(kBackend) + ": " + dir);
    for (auto& blob : page->blobs) out.push_back(std::move(blob));
    marker = std::move(page->next_marker);
  } while (!marker.empty());
  return out;
}

Result<std::vector<FileInfo>> AzureBackend::List(FileType type) {
  if (type == FileType::kConfig) return ListConfig(*this);
  ObjectLayout layout(config_.prefix);
  STASH_ASSIGN_OR_RETURN(auto blobs, ListBlobs(std::string(FileTypeDir(type)) + "/"));
  std::vector<FileInfo> out;
  for (auto& blob : blobs) {
    // The layout also drops keys of a server that ignored the prefix.
    if (auto name = layout.NameOf(type, blob.key)) out.push_back({std::move(*name), blob.size});
  }
  return out;
}

Result<FileInfo> AzureBackend::StatBlob(const std::string& relative, const std::string& name) {
  auto request = NewRequest("HEAD", relative, {}, {});
  STASH_ASSIGN_OR_RETURN(auto response, client_->Do(request));
  if (response.status != 200) return Failure(relative, response);
  auto size = ParseUint(response.Header("content-length"));
  if (!size) return Corrupt("azure: " + relative + ": HEAD answer without a Content-Length");
  return FileInfo{name, *size};
}

Result<FileInfo> AzureBackend::Stat(FileType type, const std::string& name) {
  return StatBlob(ObjectPath(type, name), name);
}

Status AzureBackend::ReadInto(FileType type, const std::string& name, uint64_t offset, uint64_t length,
                              Bytes& out) {
  std::string relative = ObjectPath(type, name);
  http::HeaderList headers;
  std::string range = http::RangeValue(offset, length);
  if (!range.empty()) headers.emplace_back("Range", range);
  auto request = NewRequest("GET", relative, {}, std::move(headers));
  request.reuse_body = &out;
  STASH_ASSIGN_OR_RETURN(auto response, client_->Do(request));
  if (!http::IsRangedAnswer(response)) return Failure(relative, response);
  STASH_ASSIGN_OR_RETURN(out, FinishRead(*this, type, name, offset, length,
                                         http::RangedBody(response, offset, length, "azure", relative)));
  return Status::Ok();
}

Result<http::HttpResponse> AzureBackend::PutBlob(const std::string& relative, ByteView data,
                                                 const http::HttpRequest::FileBody& file) {
  auto request = NewRequest("PUT", relative, {},
                            {{"Content-Type", "application/octet-stream"},
                             {"If-None-Match", "*"},
                             {"x-ms-blob-type", "BlockBlob"}},
                            data);
  request.body_file = file;
  return client_->Do(request);
}

// Uploads the blocks, then commits them in one Put Block List: until that
// succeeds readers see no blob (uncommitted blocks expire on their own).
Result<http::HttpResponse> AzureBackend::PutBlocks(const std::string& relative, ByteView data) {
  std::string list = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
  for (size_t i = 0, offset = 0; offset < data.size(); ++i, offset += config_.block_size) {
    std::string id = BlockId(i);
    auto block = data.subspan(offset, std::min<uint64_t>(config_.block_size, data.size() - offset));
    auto request = NewRequest("PUT", relative, {{"comp", "block"}, {"blockid", id}}, {}, block);
    STASH_ASSIGN_OR_RETURN(auto response, client_->Do(request));
    if (response.status != 201) {
      return Failure(relative + " (block " + std::to_string(i) + ")", response);
    }
    list += "<Latest>" + id + "</Latest>";
  }
  list += "</BlockList>";
  auto commit = NewRequest("PUT", relative, {{"comp", "blocklist"}},
                           {{"Content-Type", "application/xml"},
                            {"If-None-Match", "*"},
                            {"x-ms-blob-content-type", "application/octet-stream"}},
                           AsBytes(list));
  return client_->Do(commit);
}

// Interprets the answer to the write that makes the blob appear: 409/412
// is the name taken (perhaps by our own earlier attempt, which WriteNew
// recognises by its content).
Status AzureBackend::Created(const std::string& relative, const http::HttpResponse& response) {
  if (response.status == 201) return Status::Ok();
  if (response.status == 409 || response.status == 412) {
    return Conflict("azure: " + relative + ": file already exists");
  }
  return Failure(relative, response);
}

Status AzureBackend::Write(FileType type, const std::string& name, ByteView data) {
  std::string relative = ObjectPath(type, name);
  return WriteNew(*this, type, name, data, [&]() -> Status {
    auto response = data.size() > config_.max_single_put ? PutBlocks(relative, data)
                                                         : PutBlob(relative, data);
    if (!response.ok()) return response.error();
    return Created(relative, *response);
  });
}

// A pack that fits one Put Blob goes from its file a piece at a time, never
// all in memory; a larger one is cut into blocks from the mapped file.
Status AzureBackend::WriteFromFile(FileType type, const std::string& name, int fd, uint64_t size) {
  if (size == 0 || size > config_.max_single_put) return Backend::WriteFromFile(type, name, fd, size);
  std::string relative = ObjectPath(type, name);
  return WriteNewFromFile(*this, type, name, fd, size, [&]() -> Status {
    STASH_ASSIGN_OR_RETURN(auto response, PutBlob(relative, {}, {fd, size}));
    return Created(relative, response);
  });
}

Status AzureBackend::Remove(FileType type, const std::string& name) {
  std::string relative = ObjectPath(type, name);
  auto request = NewRequest("DELETE", relative, {}, {});
  STASH_ASSIGN_OR_RETURN(auto response, client_->Do(request));
  if (!DeleteDone(response)) return Failure(relative, response);
  return Status::Ok();
}

}  // namespace stash
