// Reading the Kubernetes manifests a user would `kubectl apply`: Stash
// Repository objects (stash.appscode.com/v1alpha1), Secrets and Namespaces,
// from YAML or JSON with any number of documents (and v1 List objects).
// Other kinds are skipped. Nothing here throws: YAML errors come back as
// kInvalid naming the source and document.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/snapshots/repository_source.h"
#include "base/result.h"
#include "stashapi/stash_backend.h"

namespace stash::apiserver {

struct RepositoryManifest {
  std::string ns = "default", name;
  std::map<std::string, std::string> labels;
  std::string storage_secret_name;
  StashBackend backend;
};

struct SecretManifest {
  std::string ns = "default", name;
  std::map<std::string, std::string> data;  // base64 `data` decoded, `stringData` merged over it
};

struct Manifests {
  std::vector<RepositoryManifest> repositories;
  std::vector<SecretManifest> secrets;
  std::vector<std::string> namespaces;              // names of the Namespace objects
  std::vector<std::string> terminating_namespaces;  // those with deletionTimestamp / phase Terminating
  size_t skipped = 0;  // documents of other kinds

  void Merge(Manifests other);
};

// Parses every document of `text`; `source` names it in errors.
Result<Manifests> ParseManifests(std::string_view text, const std::string& source);

// Pairs each Repository with its Secret and backend location. Later
// duplicates (same namespace and name) replace earlier ones, as apply does.
std::vector<RepositorySpec> ResolveRepositories(const Manifests& manifests);

}  // namespace stash::apiserver
