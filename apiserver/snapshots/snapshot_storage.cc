#include "apiserver/snapshots/snapshot_storage.h"

#include <algorithm>
#include <iostream>
#include <tuple>

#include "apiserver/snapshots/snapshot_object.h"
#include "engine/prune.h"
#include "storage/lock.h"

namespace stash::apiserver {
namespace {

// `restic prune` with its defaults, on a repository opened anew, so lists
// and refreshes of the cached one never wait for it.
Status PruneRepository(const RepositorySpec& spec, const SnapshotCache::BackendOpener& opener) {
  auto backend = opener(spec);
  if (!backend.ok()) return backend.error();
  auto repo = Repository::Open(std::move(*backend), spec.password);
  if (!repo.ok()) return repo.error();
  auto lock = RepositoryLock::Acquire(**repo, LockMode::kExclusive);
  if (!lock.ok()) return lock.error();
  auto stats = Prune(**repo, PruneOptions{});
  (void)(*lock)->Release();
  if (!stats.ok()) return stats.error();
  return Status::Ok();
}

uint64_t NowMicros() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// Whether the snapshots of `cache` can match `selector`: every label but
// hostname is the same on all of them (the Repository's labels plus
// repository=<name>), so those requirements are decided per repository.
// With state_mu held.
bool RepositoryMayMatch(const SnapshotCache& cache, const LabelSelector& selector) {
  if (selector.empty()) return true;
  Labels labels = cache.LabelsLocked();
  labels["repository"] = cache.spec().name;
  for (const auto& r : selector.requirements()) {
    if (r.key != "hostname" && !r.Matches(labels)) return false;
  }
  return true;
}

}  // namespace

SnapshotStorage::SnapshotStorage(RepositorySource& source, ThreadPool& backend_pool, Metrics* metrics,
                                 SnapshotStorageOptions options)
    : source_(source),
      pool_(backend_pool),
      metrics_(metrics),
      options_(std::move(options)),
      hub_(NowMicros(), options_.watch_history) {
  if (options_.prune_after_delete) {
    prunes_ = std::make_unique<PruneQueue>(options_.prune, [this](const std::string& key, const Status& s) {
      const char* result = s.ok() ? "ok" : s.error().kind() == ErrorKind::kConflict ? "locked" : "failed";
      if (!s.ok()) std::cerr << "prune of repository " << key << ": " << s.error().message() << "\n";
      if (metrics_) metrics_->Add("stash_apiserver_prunes_total", {{"result", result}});
    });
  }
}

SnapshotStorage::~SnapshotStorage() { Stop(); }

void SnapshotStorage::DeclareMetrics(Metrics& m) {
  m.Counter("stash_apiserver_repository_errors_total",
            "Lists and gets that left a repository out because it could not be read.");
  m.Gauge("stash_apiserver_repositories", "Repositories served, by state (ready, failed, loading).");
  m.Gauge("stash_apiserver_snapshots", "Snapshots held in the caches.");
  m.Counter("stash_apiserver_snapshot_deletions_total", "Snapshot deletions, by result.");
  m.Gauge("stash_apiserver_watchers", "Open watch streams on snapshots.");
  m.Counter("stash_apiserver_prunes_total", "Background prunes after deletes, by result (ok, locked, failed).");
}

void SnapshotStorage::Start() {
  source_.OnChange([this] { SyncRepositories(); });
  SyncRepositories();
  if (metrics_) metrics_->OnScrape([this](Metrics& m) { Collect(m); });
  poller_ = std::thread([this] { PollLoop(); });
}

void SnapshotStorage::Stop() {
  {
    std::lock_guard<std::mutex> lock(poll_mu_);
    stopping_ = true;
  }
  poll_cv_.notify_all();
  if (poller_.joinable()) poller_.join();
  if (prunes_) prunes_->Stop();
}

const ResourceInfo& SnapshotStorage::info() const { return SnapshotResourceInfo(); }
const std::vector<TableColumn>& SnapshotStorage::columns() const { return SnapshotColumns(); }
const std::vector<SchemaField>& SnapshotStorage::schema() const { return SnapshotSchema(); }

void SnapshotStorage::SyncRepositories() {
  auto specs = source_.Repositories();
  Caches to_load;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    std::map<std::string, std::shared_ptr<SnapshotCache>> next;
    for (auto& spec : specs) {
      auto it = caches_.find(spec.key());
      if (it != caches_.end() && it->second->SameRepository(spec)) {
        // Only its labels may differ: the snapshots stay, re-sealed.
        it->second->RelabelLocked(spec.labels);
        next[spec.key()] = it->second;
        continue;
      }
      auto cache = std::make_shared<SnapshotCache>(spec, options_.opener, state_mu_, hub_);
      next[spec.key()] = cache;
      to_load.push_back(cache);
    }
    // Repositories gone or changed: their snapshots go (and changed ones come back on reload).
    for (auto& [key, cache] : caches_) {
      auto it = next.find(key);
      if (it == next.end() || it->second != cache) cache->DropAllLocked();
    }
    caches_ = std::move(next);
  }
  // Cold loads of all repositories run in parallel on the backend pool.
  for (auto& c : to_load) c->RefreshAsync(pool_);
}

SnapshotStorage::Caches SnapshotStorage::Select(const std::string& ns, const LabelSelector& selector) {
  Caches out;
  std::lock_guard<std::mutex> lock(state_mu_);
  for (const auto& [key, cache] : caches_) {
    const RepositorySpec& spec = cache->spec();
    if (!ns.empty() && spec.ns != ns) continue;
    if (!RepositoryMayMatch(*cache, selector)) continue;
    if (source_.NamespaceTerminating(spec.ns)) continue;
    out.push_back(cache);
  }
  return out;
}

void SnapshotStorage::AwaitCold(const Caches& caches) {
  // A first load is waited for until backend_timeout after it began, so a
  // hung backend delays the lists of that window only, not every list.
  auto now = SnapshotCache::Clock::now();
  std::vector<std::pair<std::shared_future<void>, SnapshotCache::Clock::time_point>> pending;
  for (const auto& c : caches) {
    auto h = c->health();
    if (h.loaded || h.failures > 0) continue;
    auto began = h.last_attempt == SnapshotCache::Clock::time_point() ? now : h.last_attempt;
    pending.emplace_back(c->RefreshAsync(pool_), std::min(now, began) + options_.backend_timeout);
  }
  for (auto& [future, deadline] : pending) future.wait_until(deadline);
}

bool SnapshotStorage::Usable(const SnapshotCache& cache, std::vector<std::string>& warnings,
                             bool count_failure) {
  auto h = cache.health();
  if (h.loaded && h.error.empty()) {
    for (const auto& p : h.problems) warnings.push_back(p + " (snapshot left out)");
    return true;
  }
  const RepositorySpec& spec = cache.spec();
  warnings.push_back(h.error.empty() ? "repository " + spec.key() + " is still loading (backend slow or "
                                       "unreachable); its snapshots are left out"
                                     : h.error + "; its snapshots are left out");
  if (count_failure && metrics_) {
    metrics_->Add("stash_apiserver_repository_errors_total", {{"namespace", spec.ns}, {"repository", spec.name}});
  }
  return false;
}

ListResult SnapshotStorage::List(const std::string& ns, const LabelSelector& selector) {
  ListResult result;
  Caches caches;
  if (ns.empty() || !source_.NamespaceTerminating(ns)) caches = Select(ns, selector);
  AwaitCold(caches);
  if (std::string stale = source_.Staleness(); !stale.empty()) result.warnings.push_back(stale);
  std::lock_guard<std::mutex> lock(state_mu_);
  size_t size = 0;
  for (const auto& c : caches) size += c->SizeLocked();
  result.objects.reserve(size);
  // Each cache appends its objects in name order; the list is sorted when
  // every repository's first name comes after the previous one's last
  // (not so when one repository's name is another's plus "-" and more).
  result.sorted = true;
  auto key = [](const ObjectPtr& o) { return std::tie(o->meta.ns, o->meta.name, o->meta.uid); };
  for (const auto& c : caches) {
    if (!Usable(*c, result.warnings, true)) continue;
    size_t before = result.objects.size();
    c->AppendObjectsLocked(result.objects);
    if (before > 0 && before < result.objects.size() &&
        !(key(result.objects[before - 1]) < key(result.objects[before]))) {
      result.sorted = false;
    }
  }
  result.resource_version = hub_.version();
  return result;
}

Result<ObjectPtr> SnapshotStorage::Get(const std::string& ns, const std::string& name,
                                       std::vector<std::string>& warnings) {
  auto parsed = ParseSnapshotName(name);
  if (!parsed || source_.NamespaceTerminating(ns)) return NotFound(name);
  std::shared_ptr<SnapshotCache> cache;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    auto it = caches_.find(ns + "/" + parsed->first);
    if (it == caches_.end()) return NotFound(name);
    cache = it->second;
  }
  AwaitCold({cache});
  std::vector<std::string> why;
  if (!Usable(*cache, why, true)) {
    return IOError("repository " + cache->spec().key() + " cannot be read: " + why.front());
  }
  std::lock_guard<std::mutex> lock(state_mu_);
  ObjectPtr object = cache->FindLocked(parsed->second);
  if (!object) return NotFound(name);
  warnings.insert(warnings.end(), why.begin(), why.end());
  return object;
}

std::shared_ptr<SnapshotCache> SnapshotStorage::CacheOf(const std::string& ns, const std::string& repository) {
  std::lock_guard<std::mutex> lock(state_mu_);
  auto it = caches_.find(ns + "/" + repository);
  return it == caches_.end() ? nullptr : it->second;
}

void SnapshotStorage::AfterDelete(const SnapshotCache& cache, size_t deleted, bool ok) {
  if (metrics_) {
    if (ok) {
      metrics_->Add("stash_apiserver_snapshot_deletions_total", {{"result", "deleted"}}, static_cast<double>(deleted));
    } else {
      metrics_->Add("stash_apiserver_snapshot_deletions_total", {{"result", "failed"}});
    }
  }
  if (ok && prunes_) {
    prunes_->Request(cache.spec().key(), [spec = cache.spec(), opener = options_.opener] {
      return PruneRepository(spec, opener);
    });
  }
}

Result<ObjectPtr> SnapshotStorage::Delete(const ObjectPtr& object, const UserInfo& user) {
  const ObjectMeta& m = object->meta;
  // Deleting a namespace never deletes backups (docs/decisions.md, section 5).
  if (user.name == kNamespaceController || source_.NamespaceTerminating(m.ns)) return object;
  auto parsed = ParseSnapshotName(m.name);
  auto id = Id::FromHex(m.uid);
  if (!parsed || !id) return NotFound(m.name);
  auto cache = CacheOf(m.ns, parsed->first);
  if (!cache) return NotFound(m.name);
  auto gone = cache->Delete(*id);
  AfterDelete(*cache, 1, gone.ok());
  return gone;
}

Result<std::vector<ObjectPtr>> SnapshotStorage::DeleteAll(const std::vector<ObjectPtr>& objects,
                                                          const UserInfo& user, std::string& failed_name) {
  struct Batch {
    std::shared_ptr<SnapshotCache> cache;
    std::vector<Id> ids;
    std::string first_name;
  };
  std::vector<ObjectPtr> out;
  std::map<std::string, Batch> batches;  // by repository key: a fixed locking order
  for (const auto& object : objects) {
    const ObjectMeta& m = object->meta;
    // Deleting a namespace never deletes backups (docs/decisions.md, section 5).
    if (user.name == kNamespaceController || source_.NamespaceTerminating(m.ns)) {
      out.push_back(object);
      continue;
    }
    auto parsed = ParseSnapshotName(m.name);
    auto id = Id::FromHex(m.uid);
    auto cache = parsed && id ? CacheOf(m.ns, parsed->first) : nullptr;
    bool present = false;
    if (cache) {
      std::lock_guard<std::mutex> lock(state_mu_);
      present = cache->HasLocked(*id);
    }
    if (!present) {
      failed_name = m.name;
      return NotFound(m.name);
    }
    Batch& b = batches[cache->spec().key()];
    if (!b.cache) b = {cache, {}, m.name};
    b.ids.push_back(*id);
  }
  for (auto& [key, b] : batches) {
    auto gone = b.cache->DeleteMany(b.ids);
    AfterDelete(*b.cache, b.ids.size(), gone.ok());
    if (!gone.ok()) {
      failed_name = b.first_name;
      return gone.error();
    }
    std::cerr << "deleted " << gone->size() << " snapshots of repository " << key
              << " under one exclusive lock\n";
    out.insert(out.end(), gone->begin(), gone->end());
  }
  return out;
}

bool SnapshotStorage::Synced() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  for (const auto& [key, c] : caches_) {
    auto h = c->health();
    if (!h.loaded && h.failures == 0) return false;
  }
  return true;
}

void SnapshotStorage::PollLoop() {
  std::unique_lock<std::mutex> lock(poll_mu_);
  while (!stopping_) {
    poll_cv_.wait_for(lock, options_.refresh_interval);
    if (stopping_) break;
    lock.unlock();
    Caches caches;
    {
      std::lock_guard<std::mutex> state(state_mu_);
      for (const auto& [key, c] : caches_) caches.push_back(c);
    }
    auto now = std::chrono::steady_clock::now();
    for (const auto& c : caches) {
      auto h = c->health();
      if (h.refreshing) continue;
      if (h.failures > 0) {
        // Back off on a failing repository: a wrong password costs a scrypt each try.
        auto wait = options_.refresh_interval * (1LL << std::min(h.failures, 10));
        if (now - h.last_attempt < std::min<std::chrono::milliseconds>(wait, options_.max_retry_interval)) continue;
      }
      c->RefreshAsync(pool_);
    }
    lock.lock();
  }
}

void SnapshotStorage::Collect(Metrics& m) {
  double ready = 0, failed = 0, loading = 0, snapshots = 0;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    for (const auto& [key, c] : caches_) {
      auto h = c->health();
      if (!h.error.empty()) ++failed;
      else if (h.loaded) ++ready;
      else ++loading;
      snapshots += static_cast<double>(c->SizeLocked());
    }
  }
  m.Set("stash_apiserver_repositories", {{"state", "ready"}}, ready);
  m.Set("stash_apiserver_repositories", {{"state", "failed"}}, failed);
  m.Set("stash_apiserver_repositories", {{"state", "loading"}}, loading);
  m.Set("stash_apiserver_snapshots", {}, snapshots);
  m.Set("stash_apiserver_watchers", {}, static_cast<double>(hub_.subscribers()));
}

}  // namespace stash::apiserver
