#include "agent/host_repository.h"

#include <rapidjson/pointer.h>

#include "net/url.h"

namespace stash::agent {
namespace {

std::string TrimLeadingSlashes(std::string s) {
  while (!s.empty() && s.front() == '/') s.erase(0, 1);
  return s;
}

// filepath.Join: the non-empty parts joined by '/' and cleaned.
std::string Join(const std::string& a, const std::string& b) {
  if (a.empty()) return http::CleanPath(b);
  return http::CleanPath(a + "/" + b);
}

std::string JoinUrl(std::string url, const std::string& tail) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url + "/" + tail + "/";
}

// The field FullPrefix fills: "subPath", "url" or "prefix".
const char* PrefixField(const StashBackend& b) {
  if (b.type == "local") return "subPath";
  if (b.type == "rest") return "url";
  return "prefix";
}

}  // namespace

Result<std::string> HostLocation(const StashBackend& backend, const std::string& smart_prefix,
                                 const std::map<std::string, std::string>& secret) {
  if (backend.type == "local") {
    if (backend.mount_path.empty() || backend.mount_path[0] != '/') {
      return Invalid("local backend mountPath \"" + backend.mount_path + "\" is not an absolute path");
    }
    return std::string(1, '/').append(http::CleanPath(backend.mount_path + "/" + smart_prefix));
  }
  StashBackend b = backend;
  b.sidecar_created = false;  // the user's prefix, never a bucket to strip
  if (b.type == "rest") {
    b.url = b.url.empty() ? b.url : JoinUrl(b.url, smart_prefix);
  } else {
    b.prefix = TrimLeadingSlashes(Join(b.prefix, smart_prefix));
  }
  return RepositoryLocation(b, secret);
}

std::string FullPrefix(const StashBackend& b, const std::string& smart_prefix) {
  if (b.type == "local") return TrimLeadingSlashes(Join(b.sub_path, smart_prefix));
  if (b.type == "rest") return JoinUrl(b.url, smart_prefix);
  if (b.type == "s3") return TrimLeadingSlashes(Join(Join(b.bucket, b.prefix), smart_prefix));
  return TrimLeadingSlashes(Join(b.prefix, smart_prefix));
}

std::string RepositoryBackendJson(const kube::Json& restic_backend, const StashBackend& backend,
                                  const std::string& smart_prefix) {
  auto copy = kube::Clone(restic_backend);
  std::string pointer = "/" + backend.type + "/" + PrefixField(backend);
  std::string value = FullPrefix(backend, smart_prefix);
  rapidjson::Pointer(pointer.c_str()).Set(*copy, rapidjson::Value(value.c_str(), copy->GetAllocator()),
                                           copy->GetAllocator());
  return kube::ToJson(*copy);
}

}  // namespace stash::agent
