#include "apiserver/snapshots/repository_source.h"

#include "storage/backends/backend_factory.h"

namespace stash::apiserver {

Result<std::unique_ptr<Backend>> OpenBackend(const RepositorySpec& spec) {
  return stash::OpenBackend(spec.location, SettingsFromSecret(spec.backend, spec.secret));
}

}  // namespace stash::apiserver
