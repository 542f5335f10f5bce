// SnapshotCache: the snapshots of one repository, decrypted once and kept.
//
// A snapshot file's name is the hash of its content, so a file once read
// never changes: a refresh only lists the snapshots/ folder, reads the
// files it has not seen and drops the ones that are gone, and each change
// becomes an ADDED or DELETED watch event. The repository is opened (its
// key derived with scrypt) on the first refresh and kept.
//
// Each entry holds its snapshot and its object, sealed (machinery/object.h)
// when the cache learns the snapshot: the JSON object, its Table row and its
// PartialObjectMetadata, which lists and watch events copy as they are. The
// only thing that changes a snapshot's object is its Repository's labels:
// Relabel re-seals every entry and publishes MODIFIED events.
//
// Locking: refreshes and deletes of one cache are serialized by its own
// mutex and do their I/O without other locks; their results are applied
// under `state_mu`, which the owner (SnapshotStorage) shares among all
// caches and holds while reading them, so a list sees every cache and the
// watch version at one instant.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "apiserver/snapshots/repository_source.h"
#include "base/thread_pool.h"
#include "apiserver/machinery/watch.h"
#include "storage/repository.h"

namespace stash::apiserver {

class SnapshotCache : public std::enable_shared_from_this<SnapshotCache> {
 public:
  using Clock = std::chrono::steady_clock;
  using BackendOpener = std::function<Result<std::unique_ptr<Backend>>(const RepositorySpec& spec)>;

  SnapshotCache(RepositorySpec spec, BackendOpener opener, std::mutex& state_mu, WatchHub& hub);
  ~SnapshotCache();

  // The Repository as opened, without its labels (which may change while
  // the cache lives: LabelsLocked).
  const RepositorySpec& spec() const { return spec_; }
  // Whether `spec` is this repository opened the same way (its labels aside).
  bool SameRepository(const RepositorySpec& spec) const;

  // Lists snapshots/ and applies the difference. Opens the repository
  // first if needed. The error (also kept in health()) names the repository.
  Status Refresh();

  // A refresh on `pool`, or the one already running; the future is ready
  // when it ends (also when the pool drops it at shutdown). The job keeps
  // the cache alive, so the pool must be shut down before the owner goes.
  std::shared_future<void> RefreshAsync(ThreadPool& pool);

  // Removes snapshot `id` as `restic forget ID` does: under an exclusive
  // repository lock. kConflict when the repository is locked. Returns the
  // object as its DELETED event carries it.
  Result<ObjectPtr> Delete(const Id& id);

  // Removes the snapshots `ids` as one `restic forget ID...`: one exclusive
  // repository lock, one listing of snapshots/ that must still hold every
  // one of them (else kNotFound naming the first missing and nothing is
  // removed), then every file. Returns the objects as their DELETED events
  // carry them. An error part way leaves the removed ones removed.
  Result<std::vector<ObjectPtr>> DeleteMany(const std::vector<Id>& ids);

  struct Health {
    bool loaded = false;      // a refresh has succeeded
    bool refreshing = false;  // one is running
    std::string error;        // of the last refresh, "" when it succeeded
    std::vector<std::string> problems;  // snapshot files that could not be read
    Clock::time_point last_success, last_attempt;
    int failures = 0;  // consecutive
  };
  Health health() const;

  // ---- With state_mu held ----

  // Appends this repository's objects.
  void AppendObjectsLocked(std::vector<ObjectPtr>& out) const;
  // The snapshot whose id starts with `short_id` (the oldest on a tie).
  ObjectPtr FindLocked(const std::string& short_id) const;
  bool HasLocked(const Id& id) const { return entries_.count(id) > 0; }
  // The Repository's labels, which every snapshot's labels start from.
  const std::map<std::string, std::string>& LabelsLocked() const { return labels_; }
  // The Repository's labels changed: every object is made and sealed anew
  // with them, each a MODIFIED event carrying the object it replaces.
  void RelabelLocked(std::map<std::string, std::string> labels);
  // Emits DELETED for every object and forgets them (the repository is no
  // longer served).
  void DropAllLocked();
  size_t SizeLocked() const { return entries_.size(); }

 private:
  struct Entry {
    Snapshot snapshot;
    ObjectPtr object;
  };
  Status RefreshLocked();
  Status OpenLocked();
  void Apply(const std::vector<std::pair<Id, Snapshot>>& added, const std::vector<Id>& removed);
  void Record(const Status& status, std::vector<std::string> problems);
  std::string Name() const { return "repository " + spec_.key(); }
  // Drops `id` from the cache and publishes its DELETED event; null when
  // the cache did not hold it. Takes state_mu.
  ObjectPtr Forget(const Id& id);

  const RepositorySpec spec_;
  BackendOpener opener_;
  std::mutex& state_mu_;
  WatchHub& hub_;

  std::mutex refresh_mu_;  // one refresh or delete at a time; guards repo_ and known_
  std::unique_ptr<Repository> repo_;
  std::set<Id> known_;

  std::map<Id, Entry> entries_;  // guarded by state_mu_
  std::map<std::string, std::string> labels_;  // guarded by state_mu_
  // entries_' objects in id order (which is name order), made again after a
  // change, so a list appends them without walking the map. Guarded by state_mu_.
  mutable std::vector<ObjectPtr> ordered_;
  mutable bool ordered_stale_ = false;

  mutable std::mutex health_mu_;  // guards health_ and inflight_
  Health health_;
  std::shared_future<void> inflight_;
};

}  // namespace stash::apiserver
