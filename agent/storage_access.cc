#include "agent/storage_access.h"

#include <unistd.h>

#include <thread>

#include "agent/host_repository.h"
#include "crypto/encoding.h"
#include "engine/node_metadata.h"
#include "engine/polynomial.h"
#include "storage/backends/backend_factory.h"

namespace stash::agent {
namespace {

Result<std::unique_ptr<Backend>> BackendAt(const std::string& location, const BackendOptions& options) {
  auto backend = OpenBackend(location, options);
  if (!backend.ok()) return backend.error().Wrap("repository " + location);
  return backend;
}

}  // namespace

Result<std::map<std::string, std::string>> ReadStorageSecret(kube::Client& client, const std::string& ns,
                                                              const std::string& name) {
  const std::string what = "Secret " + ns + "/" + name;
  auto secret = client.Get(kube::resources::kSecrets, ns, name);
  if (!secret.ok()) {
    if (secret.error().kind() == ErrorKind::kNotFound) return NotFound(what + " not found");
    return secret.error().Wrap(what);
  }
  std::map<std::string, std::string> out;
  for (const auto& [key, encoded] : kube::StringMap(kube::At(**secret, "/data"))) {
    auto bytes = Base64Decode(encoded);
    if (!bytes) return Invalid(what + ": data." + key + " is not base64");
    out[key] = std::string(AsString(*bytes));
  }
  if (out["RESTIC_PASSWORD"].empty()) return Invalid(what + " has no RESTIC_PASSWORD (missing repository password)");
  return out;
}

Result<OpenedRepository> OpenHostRepository(const StashBackend& backend, const std::string& smart_prefix,
                                            const std::map<std::string, std::string>& secret,
                                            const std::string& host, bool create) {
  OpenedRepository out;
  STASH_ASSIGN_OR_RETURN(out.location, HostLocation(backend, smart_prefix, secret));
  BackendOptions options = SettingsFromSecret(backend, secret);
  const std::string password = secret.at("RESTIC_PASSWORD");
  STASH_ASSIGN_OR_RETURN(auto first, BackendAt(out.location, options));
  auto opened = Repository::Open(std::move(first), password);
  if (opened.ok()) {
    out.repo = std::move(*opened);
    return out;
  }
  if (opened.error().kind() != ErrorKind::kNotFound || !create) {
    // Open's own errors for a missing repository or a wrong password name
    // the location already.
    bool named = opened.error().message().find(out.location) != std::string::npos;
    return named ? opened.error() : opened.error().Wrap("repository " + out.location);
  }
  // No config file: a new repository, as `restic init` would make it.
  STASH_ASSIGN_OR_RETURN(auto fresh, BackendAt(out.location, options));
  InitOptions init;
  init.chunker_polynomial = RandomPolynomial();
  init.username = UserName(::getuid());
  init.hostname = host;
  auto created = Repository::Init(std::move(fresh), password, init);
  if (!created.ok() && created.error().kind() == ErrorKind::kConflict) {
    // Another replica or host (offline init containers, StatefulSet pods
    // start together) created it a moment before: use theirs, once it has
    // written its key too (a few seconds at most).
    for (int attempt = 0; attempt < 20; ++attempt) {
      STASH_ASSIGN_OR_RETURN(auto again, BackendAt(out.location, options));
      auto theirs = Repository::Open(std::move(again), password);
      if (theirs.ok()) {
        out.repo = std::move(*theirs);
        return out;
      }
      if (theirs.error().kind() != ErrorKind::kNotFound && theirs.error().kind() != ErrorKind::kAuth) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
  if (!created.ok()) return created.error().Wrap("create repository at " + out.location);
  out.repo = std::move(*created);
  out.created = true;
  return out;
}

Result<std::unique_ptr<RepositoryLock>> AcquireLockRetrying(Repository& repo, LockMode mode,
                                                            std::chrono::seconds retry) {
  auto until = std::chrono::steady_clock::now() + retry;
  while (true) {
    auto lock = RepositoryLock::Acquire(repo, mode);
    if (lock.ok() || lock.error().kind() != ErrorKind::kConflict || std::chrono::steady_clock::now() >= until) {
      return lock;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

}  // namespace stash::agent
