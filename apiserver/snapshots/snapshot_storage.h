// SnapshotStorage: the snapshot resource's Storage, over one SnapshotCache
// per Repository the RepositorySource yields.
//
// Reads never wait long on a backend: a background poller keeps every
// cache fresh (a snapshot written by restic or a sidecar shows up within
// one refresh interval), first loads run in parallel on the backend pool,
// and a list waits for a first load only until `backend_timeout` after it
// began (so a hung backend slows the lists of that window only). A repository
// that cannot be read is left out of lists with a Warning naming it and is
// counted in stash_apiserver_repository_errors_total; it never fails the
// list. Deleting goes to storage under an exclusive repository lock,
// except for the namespace controller or in a terminating namespace,
// where nothing is touched (docs/decisions.md, section 5), and then asks the
// PruneQueue for a background prune of that repository.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "base/metrics.h"
#include "apiserver/snapshots/prune_queue.h"
#include "apiserver/snapshots/repository_source.h"
#include "apiserver/machinery/resource.h"
#include "apiserver/snapshots/snapshot_cache.h"
#include "base/thread_pool.h"

namespace stash::apiserver {

struct SnapshotStorageOptions {
  std::chrono::milliseconds refresh_interval{2000};
  // How long a list or get waits for repositories still loading.
  std::chrono::milliseconds backend_timeout{10000};
  // Longest pause between attempts on a failing repository.
  std::chrono::milliseconds max_retry_interval{60000};
  size_t watch_history = 10000;
  SnapshotCache::BackendOpener opener = OpenBackend;
  // A coalesced background prune of a repository after deletes from it.
  bool prune_after_delete = true;
  PruneQueue::Options prune;
};

// The user the namespace controller runs as.
inline constexpr const char* kNamespaceController = "system:serviceaccount:kube-system:namespace-controller";

class SnapshotStorage : public Storage {
 public:
  SnapshotStorage(RepositorySource& source, ThreadPool& backend_pool, Metrics* metrics,
                  SnapshotStorageOptions options = {});
  ~SnapshotStorage() override;

  // Takes the source's repositories, starts loading them all and starts
  // the poller.
  void Start();
  // Stops the poller (running refreshes finish on the pool).
  void Stop();

  const ResourceInfo& info() const override;
  const std::vector<TableColumn>& columns() const override;
  const std::vector<SchemaField>& schema() const override;
  ListResult List(const std::string& ns, const LabelSelector& selector) override;
  Result<ObjectPtr> Get(const std::string& ns, const std::string& name,
                        std::vector<std::string>& warnings) override;
  Result<ObjectPtr> Delete(const ObjectPtr& object, const UserInfo& user) override;
  // Every object must still be in its repository's cache before any is
  // removed; then per repository one lock, one removal of all its matched
  // snapshot files (SnapshotCache::DeleteMany), one log line and one
  // prune request. The namespace controller and terminating namespaces
  // still touch nothing.
  Result<std::vector<ObjectPtr>> DeleteAll(const std::vector<ObjectPtr>& objects, const UserInfo& user,
                                           std::string& failed_name) override;
  WatchHub& watch_hub() override { return hub_; }

  // Declares this storage's metrics in `metrics`.
  static void DeclareMetrics(Metrics& metrics);
  // Whether every repository has been tried at least once (for /readyz).
  bool Synced() const;

 private:
  using Caches = std::vector<std::shared_ptr<SnapshotCache>>;
  void SyncRepositories();
  Caches Select(const std::string& ns, const LabelSelector& selector);
  std::shared_ptr<SnapshotCache> CacheOf(const std::string& ns, const std::string& repository);
  void AfterDelete(const SnapshotCache& cache, size_t deleted, bool ok);
  // Waits (until the deadline) for caches that have never been read.
  void AwaitCold(const Caches& caches);
  bool Usable(const SnapshotCache& cache, std::vector<std::string>& warnings, bool count_failure);
  void PollLoop();
  void Collect(Metrics& metrics);

  RepositorySource& source_;
  ThreadPool& pool_;
  Metrics* metrics_;
  SnapshotStorageOptions options_;
  WatchHub hub_;

  mutable std::mutex state_mu_;  // the caches map and every cache's entries
  std::map<std::string, std::shared_ptr<SnapshotCache>> caches_;  // by namespace/name

  std::mutex poll_mu_;
  std::condition_variable poll_cv_;
  bool stopping_ = false;
  std::thread poller_;

  std::unique_ptr<PruneQueue> prunes_;  // null when prune_after_delete is off
};

}  // namespace stash::apiserver
