#include "apiserver/repository_source.h"

#include "storage/backend_factory.h"

namespace stash::apiserver {

Result<std::unique_ptr<Backend>> OpenBackend(const std::string& location) {
  std::string path = location.starts_with("local:") ? location.substr(6) : location;
  if (path.empty() || path[0] != '/') {
    return Unsupported("repository location \"" + location + "\" is not supported yet");
  }
  return stash::OpenBackend(location, BackendOptions{});
}

}  // namespace stash::apiserver
