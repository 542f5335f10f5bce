// The standalone RepositorySource: Repositories, Secrets and Namespaces
// read once at start from a folder of manifests (`--standalone-manifests`),
// the files a user would `kubectl apply -f DIR`.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "apiserver/snapshots/manifests.h"
#include "apiserver/snapshots/repository_source.h"

namespace stash::apiserver {

class StandaloneSource : public RepositorySource {
 public:
  // Reads every *.yaml, *.yml and *.json file directly in `dir` (like
  // kubectl apply, not recursive). kInvalid names a file that is not valid
  // YAML; a Repository without its Secret is served as a broken one.
  static Result<std::unique_ptr<StandaloneSource>> Load(const std::string& dir);

  explicit StandaloneSource(const Manifests& manifests);

  std::vector<RepositorySpec> Repositories() override { return repositories_; }
  bool NamespaceTerminating(const std::string& ns) override;
  void OnChange(std::function<void()>) override {}  // the folder is read once

  size_t skipped_documents() const { return skipped_; }

  // "Active" or "Terminating" for a namespace that has Repositories or a
  // Namespace manifest; nullopt for others. kubectl asks for the namespace
  // (GET /api/v1/namespaces/NAME) to explain a NotFound.
  std::optional<std::string> NamespacePhase(const std::string& ns) const override;

 private:
  std::vector<RepositorySpec> repositories_;
  std::vector<std::string> namespaces_;
  std::vector<std::string> terminating_;
  size_t skipped_ = 0;
};

}  // namespace stash::apiserver
