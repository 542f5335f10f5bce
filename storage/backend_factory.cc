#include "storage/backend_factory.h"

#include <cstring>

#include "storage/local_backend.h"
#include "storage/rest_backend.h"
#include "storage/s3_backend.h"

namespace stash {

namespace {

Result<std::unique_ptr<Backend>> OpenS3(const std::string& location, const BackendOptions& options) {
  STASH_ASSIGN_OR_RETURN(S3Config config, ParseS3Location(location));
  STASH_RETURN_IF_ERROR(S3ConfigFromSettings(config, options));
  return S3Backend::Open(std::move(config), options.http);
}

Result<std::unique_ptr<Backend>> OpenRest(const std::string& location, const BackendOptions& options) {
  return RestBackend::Open(location, options.http);
}

struct Scheme {
  const char* prefix;  // with the colon
  Result<std::unique_ptr<Backend>> (*open)(const std::string& location, const BackendOptions&);
};

// One line per remote backend.
const Scheme kSchemes[] = {
    {"s3:", OpenS3},
    {"rest:", OpenRest},
};

const char* const kUnsupported[] = {"sftp:", "rclone:"};

}  // namespace

Result<std::unique_ptr<Backend>> OpenBackend(const std::string& location,
                                             const BackendOptions& options) {
  if (location.empty()) {
    return Invalid("please specify repository location (-r or RESTIC_REPOSITORY)");
  }
  for (const Scheme& scheme : kSchemes) {
    if (location.starts_with(scheme.prefix)) return scheme.open(location, options);
  }
  for (const char* scheme : kUnsupported) {
    if (location.starts_with(scheme)) {
      return Unsupported("backend \"" + std::string(scheme, std::strlen(scheme) - 1) +
                         "\" is not supported: " + location);
    }
  }
  std::string path = location.starts_with("local:") ? location.substr(6) : location;
  return std::unique_ptr<Backend>(new LocalBackend(path));
}

}  // namespace stash
