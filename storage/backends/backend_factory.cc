#include "storage/backends/backend_factory.h"

#include <cstring>

#include "storage/backends/azure_backend.h"
#include "storage/backends/b2_backend.h"
#include "storage/backends/gcs_backend.h"
#include "storage/backends/local_backend.h"
#include "storage/backends/rest_backend.h"
#include "storage/backends/s3_backend.h"
#include "storage/backends/swift_backend.h"

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

Result<std::unique_ptr<Backend>> OpenAzure(const std::string& location, const BackendOptions& options) {
  STASH_ASSIGN_OR_RETURN(AzureConfig config, ParseAzureLocation(location));
  STASH_RETURN_IF_ERROR(AzureConfigFromSettings(config, options));
  return AzureBackend::Open(std::move(config), options.http);
}

Result<std::unique_ptr<Backend>> OpenB2(const std::string& location, const BackendOptions& options) {
  STASH_ASSIGN_OR_RETURN(B2Config config, ParseB2Location(location));
  STASH_RETURN_IF_ERROR(B2ConfigFromSettings(config, options));
  return B2Backend::Open(std::move(config), options.http);
}

Result<std::unique_ptr<Backend>> OpenSwift(const std::string& location, const BackendOptions& options) {
  STASH_ASSIGN_OR_RETURN(SwiftConfig config, ParseSwiftLocation(location));
  STASH_RETURN_IF_ERROR(SwiftConfigFromSettings(config, options));
  return SwiftBackend::Open(std::move(config), options.http);
}

Result<std::unique_ptr<Backend>> OpenGcs(const std::string& location, const BackendOptions& options) {
  STASH_ASSIGN_OR_RETURN(GcsConfig config, ParseGcsLocation(location));
  STASH_RETURN_IF_ERROR(GcsConfigFromSettings(config, options));
  return GcsBackend::Open(std::move(config), options.http);
}

struct Scheme {
  const char* prefix;  // with the colon
  Result<std::unique_ptr<Backend>> (*open)(const std::string& location, const BackendOptions&);
};

// One line per remote backend.
const Scheme kSchemes[] = {
    {"s3:", OpenS3},
    {"rest:", OpenRest},
    {"gs:", OpenGcs},
    {"b2:", OpenB2},
    {"swift:", OpenSwift},
    {"azure:", OpenAzure},
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
