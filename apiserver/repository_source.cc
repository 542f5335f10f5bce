#include "apiserver/repository_source.h"

#include "storage/backend_factory.h"

namespace stash::apiserver {

Result<std::unique_ptr<Backend>> OpenBackend(const RepositorySpec& spec) {
  return stash::OpenBackend(spec.location, SettingsFromSecret(spec.backend, spec.secret));
}

}  // namespace stash::apiserver
