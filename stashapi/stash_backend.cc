#include "stashapi/stash_backend.h"

#include "net/url.h"

namespace stash {
namespace {

// path.Clean for the pieces Stash joins: no doubled or trailing '/'.
std::string CleanPath(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out += c;
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::string TrimSlashes(std::string s) {
  while (!s.empty() && s.front() == '/') s.erase(0, 1);
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

bool LeavesVolume(const std::string& sub) {
  return sub == ".." || sub.starts_with("../") || sub.find("/../") != std::string::npos ||
         sub.ends_with("/..");
}

Status Require(const std::string& value, const std::string& type, const char* field) {
  if (!value.empty()) return Status::Ok();
  return Invalid(type + " backend has no " + field);
}

Result<std::string> S3Location(const StashBackend& b) {
  STASH_RETURN_IF_ERROR(Require(b.bucket, "s3", "bucket"));
  std::string endpoint = TrimSlashes(b.endpoint.empty() ? "s3.amazonaws.com" : b.endpoint);
  std::string prefix = TrimSlashes(CleanPath(b.prefix));
  if (b.sidecar_created && (prefix == b.bucket || prefix.starts_with(b.bucket + "/"))) {
    prefix = TrimSlashes(prefix.substr(b.bucket.size()));
  }
  std::string location = "s3:" + endpoint + "/" + b.bucket;
  if (!prefix.empty()) location += "/" + prefix;
  return location;
}

// "<scheme>:<name>:/<prefix>", Stash's form for gs, azure and swift.
Result<std::string> NamedLocation(const char* scheme, const std::string& type, const char* field,
                                  const std::string& name, const std::string& prefix) {
  STASH_RETURN_IF_ERROR(Require(name, type, field));
  return std::string(scheme) + ":" + name + ":/" + TrimSlashes(CleanPath(prefix));
}

Result<std::string> RestLocation(const StashBackend& b,
                                 const std::map<std::string, std::string>& secret) {
  STASH_RETURN_IF_ERROR(Require(b.url, "rest", "url"));
  auto user = secret.find("REST_SERVER_USERNAME");
  if (user == secret.end() || user->second.empty()) return "rest:" + b.url;
  size_t scheme_end = b.url.find("://");
  if (scheme_end == std::string::npos) return Invalid("rest backend url \"" + b.url + "\" has no scheme");
  auto password = secret.find("REST_SERVER_PASSWORD");
  std::string userinfo = http::UriEncode(user->second, false);
  if (password != secret.end()) userinfo += ":" + http::UriEncode(password->second, false);
  return "rest:" + b.url.substr(0, scheme_end + 3) + userinfo + "@" + b.url.substr(scheme_end + 3);
}

}  // namespace

Result<std::string> LocalRepositoryPath(const StashBackend& b) {
  const std::string& base = b.host_path.empty() ? b.mount_path : b.host_path;
  if (base.empty()) return Invalid("local backend has neither hostPath.path nor mountPath");
  if (base[0] != '/') return Invalid("local backend path \"" + base + "\" is not absolute");
  if (LeavesVolume(b.sub_path)) {
    return Invalid("local backend subPath \"" + b.sub_path + "\" leaves its volume");
  }
  return CleanPath(b.sub_path.empty() ? base : base + "/" + b.sub_path);
}

Result<std::string> RepositoryLocation(const StashBackend& b,
                                       const std::map<std::string, std::string>& secret) {
  if (b.type == "local") return LocalRepositoryPath(b);
  if (b.type == "s3") return S3Location(b);
  if (b.type == "gcs") return NamedLocation("gs", b.type, "bucket", b.bucket, b.prefix);
  if (b.type == "azure") return NamedLocation("azure", b.type, "container", b.container, b.prefix);
  if (b.type == "swift") return NamedLocation("swift", b.type, "container", b.container, b.prefix);
  if (b.type == "b2") {
    STASH_RETURN_IF_ERROR(Require(b.bucket, "b2", "bucket"));
    return "b2:" + b.bucket + ":" + TrimSlashes(CleanPath(b.prefix));
  }
  if (b.type == "rest") return RestLocation(b, secret);
  if (b.type.empty()) return Invalid("spec.backend names no storage backend");
  return Invalid("unknown backend type \"" + b.type + "\"");
}

BackendOptions SettingsFromSecret(const StashBackend& b,
                                  const std::map<std::string, std::string>& secret) {
  std::map<std::string, std::string> settings = secret;
  if (!b.region.empty()) settings["AWS_DEFAULT_REGION"] = b.region;
  BackendOptions options;
  options.http = http::HttpOptionsFromEnvironment();
  if (auto ca = secret.find("CA_CERT_DATA"); ca != secret.end()) options.http.ca_pem = ca->second;
  options.env = [settings = std::move(settings)](const std::string& name) {
    auto it = settings.find(name);
    return it == settings.end() ? std::string() : it->second;
  };
  return options;
}

}  // namespace stash
