#include "apiserver/repository_source.h"

#include "storage/local_backend.h"

namespace stash::apiserver {

Result<std::unique_ptr<Backend>> OpenBackend(const std::string& location) {
  std::string path = location.starts_with("local:") ? location.substr(6) : location;
  if (path.empty() || path[0] != '/') {
    return Unsupported("repository location \"" + location + "\" is not supported yet");
  }
  return std::unique_ptr<Backend>(std::make_unique<LocalBackend>(path));
}

}  // namespace stash::apiserver
