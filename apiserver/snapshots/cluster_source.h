// The RepositorySource of a server running against a cluster: informers
// on Repository objects (stash.appscode.com/v1alpha1), Secrets and
// Namespaces. Each change rebuilds the served list, so a Repository created,
// changed or deleted with kubectl, or a rotated Secret, shows in the next
// list. Objects are read with the same parser as standalone manifests (the
// API's JSON is YAML), so both modes resolve a Repository identically.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "apiserver/snapshots/repository_source.h"
#include "kube/client.h"
#include "kube/informer.h"

namespace stash::apiserver {

inline const kube::Resource kRepositories{"stash.appscode.com", "v1alpha1", "repositories", "Repository", true};

class ClusterSource : public RepositorySource {
 public:
  ClusterSource(kube::Client* client, kube::LogFn log);
  ~ClusterSource() override;

  // Starts the informers and waits up to `timeout` for their first lists;
  // kIO naming the kind that could not be listed (RBAC, a missing CRD).
  Status Start(std::chrono::milliseconds timeout);
  void Stop();

  std::vector<RepositorySpec> Repositories() override;
  bool NamespaceTerminating(const std::string& ns) override;
  void OnChange(std::function<void()> callback) override;
  std::optional<std::string> NamespacePhase(const std::string& ns) const override;
  std::string Staleness() const override;

 private:
  void Rebuild();

  kube::LogFn log_;
  kube::Informer repositories_, secrets_, namespaces_;
  std::mutex rebuild_mu_;  // one rebuild at a time, so the newest wins
  std::mutex mu_;
  std::vector<RepositorySpec> resolved_;
  std::vector<std::function<void()>> callbacks_;
};

}  // namespace stash::apiserver
