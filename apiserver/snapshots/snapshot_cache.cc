#include "apiserver/snapshots/snapshot_cache.h"

#include <algorithm>

#include "apiserver/snapshots/snapshot_object.h"
#include "storage/lock.h"

namespace stash::apiserver {

namespace {

RepositorySpec WithoutLabels(RepositorySpec spec) {
  spec.labels.clear();
  return spec;
}

}  // namespace

SnapshotCache::SnapshotCache(RepositorySpec spec, BackendOpener opener, std::mutex& state_mu, WatchHub& hub)
    : spec_(WithoutLabels(spec)),
      opener_(std::move(opener)),
      state_mu_(state_mu),
      hub_(hub),
      labels_(std::move(spec.labels)) {}

bool SnapshotCache::SameRepository(const RepositorySpec& spec) const {
  return spec_ == WithoutLabels(spec);
}

void SnapshotCache::RelabelLocked(std::map<std::string, std::string> labels) {
  if (labels == labels_) return;
  labels_ = std::move(labels);
  ordered_stale_ = true;
  for (auto& [id, e] : entries_) {
    ObjectPtr previous = e.object;
    e.object = MakeSnapshotObject(spec_, labels_, id, e.snapshot, hub_.NextVersion());
    hub_.Publish({WatchEvent::kModified, e.object, previous});
  }
}

SnapshotCache::~SnapshotCache() = default;

Status SnapshotCache::OpenLocked() {
  if (repo_) return Status::Ok();
  if (!spec_.problem.empty()) return Invalid(Name() + ": " + spec_.problem);
  auto backend = opener_(spec_);
  if (!backend.ok()) return backend.error().Wrap(Name());
  // scrypt: done once per repository; the key is kept with the Repository.
  auto repo = Repository::Open(std::move(*backend), spec_.password);
  if (!repo.ok()) return repo.error().Wrap(Name());  // the message names the location
  repo_ = std::move(*repo);
  return Status::Ok();
}

Status SnapshotCache::Refresh() {
  std::lock_guard<std::mutex> lock(refresh_mu_);
  {
    std::lock_guard<std::mutex> h(health_mu_);
    health_.last_attempt = Clock::now();
  }
  return RefreshLocked();
}

Status SnapshotCache::RefreshLocked() {
  Status open = OpenLocked();
  if (!open.ok()) {
    Record(open, {});
    return open;
  }
  auto files = repo_->backend().List(FileType::kSnapshot);
  if (!files.ok()) {
    Status s = files.error().Wrap(Name());
    Record(s, {});
    return s;
  }
  std::set<Id> present;
  for (const auto& f : *files) {
    if (auto id = Id::FromHex(f.name)) present.insert(*id);
  }
  std::vector<Id> unknown;
  for (const auto& id : present) {
    if (!known_.count(id)) unknown.push_back(id);
  }
  std::vector<std::pair<Id, Snapshot>> added;
  std::vector<std::string> problems;
  repo_->LoadSnapshots(unknown, [&](const Id& id, Result<Snapshot>&& snapshot) {
    if (snapshot.ok()) {
      added.emplace_back(id, std::move(*snapshot));
    } else if (snapshot.error().kind() != ErrorKind::kNotFound) {
      // Read again next time: the error may be passing (a file being written).
      problems.push_back(Name() + ": " + snapshot.error().message());
    }
  });
  std::vector<Id> removed;
  for (const auto& id : known_) {
    if (!present.count(id)) removed.push_back(id);
  }
  Apply(added, removed);
  for (const auto& [id, s] : added) known_.insert(id);
  for (const auto& id : removed) known_.erase(id);
  Record(Status::Ok(), std::move(problems));
  return Status::Ok();
}

void SnapshotCache::Apply(const std::vector<std::pair<Id, Snapshot>>& added,
                          const std::vector<Id>& removed) {
  if (added.empty() && removed.empty()) return;
  std::lock_guard<std::mutex> lock(state_mu_);
  ordered_stale_ = true;
  for (const auto& id : removed) {
    auto it = entries_.find(id);
    if (it == entries_.end()) continue;
    hub_.Publish({WatchEvent::kDeleted, WithResourceVersion(it->second.object, hub_.NextVersion())});
    entries_.erase(it);
  }
  // Oldest first, so watchers see backups in the order they were taken.
  std::vector<const std::pair<Id, Snapshot>*> order;
  for (const auto& a : added) order.push_back(&a);
  std::sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    return std::tie(a->second.time, a->first) < std::tie(b->second.time, b->first);
  });
  for (const auto* a : order) {
    ObjectPtr object = MakeSnapshotObject(spec_, labels_, a->first, a->second, hub_.NextVersion());
    entries_[a->first] = Entry{a->second, object};
    hub_.Publish({WatchEvent::kAdded, object});
  }
}

void SnapshotCache::Record(const Status& status, std::vector<std::string> problems) {
  std::lock_guard<std::mutex> lock(health_mu_);
  if (status.ok()) {
    health_.loaded = true;
    health_.error.clear();
    health_.failures = 0;
    health_.last_success = Clock::now();
    health_.problems = std::move(problems);
  } else {
    health_.error = status.error().message();
    ++health_.failures;
  }
}

std::shared_future<void> SnapshotCache::RefreshAsync(ThreadPool& pool) {
  std::lock_guard<std::mutex> lock(health_mu_);
  if (inflight_.valid() && inflight_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    return inflight_;
  }
  auto done = std::make_shared<std::promise<void>>();
  inflight_ = done->get_future().share();
  health_.refreshing = true;
  pool.Submit([self = shared_from_this(), done] {
    (void)self->Refresh();
    {
      std::lock_guard<std::mutex> h(self->health_mu_);
      self->health_.refreshing = false;
    }
    done->set_value();
  });
  return inflight_;
}

SnapshotCache::Health SnapshotCache::health() const {
  std::lock_guard<std::mutex> lock(health_mu_);
  return health_;
}

Result<ObjectPtr> SnapshotCache::Delete(const Id& id) {
  std::lock_guard<std::mutex> lock(refresh_mu_);
  STASH_RETURN_IF_ERROR(OpenLocked());
  // As restic forget does: an exclusive lock, then remove the file.
  auto repo_lock = RepositoryLock::Acquire(*repo_, LockMode::kExclusive);
  if (!repo_lock.ok()) return repo_lock.error().Wrap(Name());
  Status removed = repo_->backend().Remove(FileType::kSnapshot, id.Hex());
  Status released = (*repo_lock)->Release();
  if (!removed.ok() && removed.error().kind() != ErrorKind::kNotFound) {
    return removed.error().Wrap(Name() + ": removing snapshots/" + id.Hex());
  }
  (void)released;  // a lock file left behind goes stale and is cleaned by `unlock`
  ObjectPtr gone = Forget(id);
  if (!gone) return NotFound(Name() + ": snapshot " + id.Hex());
  return gone;
}

ObjectPtr SnapshotCache::Forget(const Id& id) {
  known_.erase(id);
  std::lock_guard<std::mutex> state(state_mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return nullptr;
  ObjectPtr gone = WithResourceVersion(it->second.object, hub_.NextVersion());
  hub_.Publish({WatchEvent::kDeleted, gone});
  entries_.erase(it);
  ordered_stale_ = true;
  return gone;
}

Result<std::vector<ObjectPtr>> SnapshotCache::DeleteMany(const std::vector<Id>& ids) {
  std::lock_guard<std::mutex> lock(refresh_mu_);
  STASH_RETURN_IF_ERROR(OpenLocked());
  // The lock costs restic's wait before checking for rivals, so a batch
  // takes it once, not once per snapshot.
  auto repo_lock = RepositoryLock::Acquire(*repo_, LockMode::kExclusive);
  if (!repo_lock.ok()) return repo_lock.error().Wrap(Name());
  auto release = [&] { (void)(*repo_lock)->Release(); };  // a stale lock is cleaned by `unlock`
  auto listed = repo_->backend().List(FileType::kSnapshot);
  if (!listed.ok()) {
    release();
    return listed.error().Wrap(Name() + ": listing snapshots");
  }
  std::set<std::string> present;
  for (const auto& f : *listed) present.insert(f.name);
  for (const auto& id : ids) {
    if (!present.count(id.Hex())) {
      release();
      return NotFound(Name() + ": snapshot " + id.Hex());
    }
  }
  std::vector<ObjectPtr> gone;
  for (const auto& id : ids) {
    Status removed = repo_->backend().Remove(FileType::kSnapshot, id.Hex());
    if (!removed.ok() && removed.error().kind() != ErrorKind::kNotFound) {
      release();
      return removed.error().Wrap(Name() + ": removing snapshots/" + id.Hex());
    }
    if (ObjectPtr object = Forget(id)) gone.push_back(std::move(object));
  }
  release();
  return gone;
}

void SnapshotCache::AppendObjectsLocked(std::vector<ObjectPtr>& out) const {
  if (ordered_stale_) {
    ordered_.clear();
    ordered_.reserve(entries_.size());
    for (const auto& [id, e] : entries_) ordered_.push_back(e.object);
    ordered_stale_ = false;
  }
  for (size_t i = 0; i < ordered_.size(); ++i) {
    PrefetchObject(ordered_, i);
    out.push_back(ordered_[i]);
  }
}

ObjectPtr SnapshotCache::FindLocked(const std::string& short_id) const {
  const Entry* best = nullptr;
  for (auto it = entries_.lower_bound(*Id::FromHex(short_id + std::string(56, '0')));
       it != entries_.end() && it->first.Hex().compare(0, short_id.size(), short_id) == 0; ++it) {
    if (!best || it->second.snapshot.time < best->snapshot.time) best = &it->second;
  }
  return best ? best->object : nullptr;
}

void SnapshotCache::DropAllLocked() {
  for (const auto& [id, e] : entries_) {
    hub_.Publish({WatchEvent::kDeleted, WithResourceVersion(e.object, hub_.NextVersion())});
  }
  entries_.clear();
  ordered_stale_ = true;
}

}  // namespace stash::apiserver
