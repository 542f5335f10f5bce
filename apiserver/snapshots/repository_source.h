// RepositorySource: where the Repository objects the server serves come
// from, with what is needed to open each (docs/architecture.md, "Seams").
//
// Standalone mode reads a folder of manifests (standalone_source.h); in a
// cluster, informers watch Repository objects, Secrets and Namespaces
// through the Kubernetes API (cluster_source.h).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "storage/backends/backend.h"
#include "stashapi/stash_backend.h"

namespace stash::apiserver {

// One Repository (stash.appscode.com/v1alpha1), resolved for opening.
struct RepositorySpec {
  std::string ns, name;
  std::map<std::string, std::string> labels;  // the Repository's own labels
  StashBackend backend;  // spec.backend
  std::string location;  // the restic location built from it ("/path", "s3:...")
  std::map<std::string, std::string> secret;  // the storage Secret's data
  std::string password;  // RESTIC_PASSWORD from the storage Secret
  // Why the repository cannot be opened (no Secret, no password, a backend
  // not supported yet); empty when it can.
  std::string problem;

  std::string key() const { return ns + "/" + name; }
  // Same repository opened the same way, with the same labels.
  bool operator==(const RepositorySpec&) const = default;
};

class RepositorySource {
 public:
  virtual ~RepositorySource() = default;

  // Every Repository to serve, as of now.
  virtual std::vector<RepositorySpec> Repositories() = 0;

  // Whether namespace `ns` is being deleted: its snapshots are then neither
  // listed nor deleted (docs/decisions.md, "5. Namespace deletion keeps backups").
  virtual bool NamespaceTerminating(const std::string& ns) = 0;

  // `callback` runs whenever Repositories() may have changed.
  virtual void OnChange(std::function<void()> callback) = 0;

  // "Active" or "Terminating" for a namespace the source knows; nullopt
  // for others. kubectl asks for the namespace (GET /api/v1/namespaces/NAME)
  // to explain a NotFound.
  virtual std::optional<std::string> NamespacePhase(const std::string& ns) const = 0;

  // Why Repositories() may be out of date (the cluster cannot be watched
  // right now), for a Warning on lists; "" when it is current.
  virtual std::string Staleness() const { return ""; }
};

// The Backend of a resolved Repository: its location, opened with the
// settings of its storage Secret.
Result<std::unique_ptr<Backend>> OpenBackend(const RepositorySpec& spec);

}  // namespace stash::apiserver
