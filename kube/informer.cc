#include "kube/informer.h"

#include <algorithm>

namespace stash::kube {
namespace {

constexpr std::chrono::milliseconds kFirstBackoff{1000};
constexpr std::chrono::milliseconds kMaxBackoff{30000};

}  // namespace

Informer::Informer(Client* client, Resource resource, std::string ns, ListOptions selectors, LogFn log)
    : client_(client),
      resource_(std::move(resource)),
      ns_(std::move(ns)),
      selectors_(std::move(selectors)),
      log_(std::move(log)) {}

Informer::~Informer() { Stop(); }

void Informer::AddHandlers(InformerHandlers handlers) { handlers_.push_back(std::move(handlers)); }

void Informer::Start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void Informer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Informer::WaitForSync(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return synced_.load() || stop_.load(); }) && synced_;
}

std::string Informer::problem() const {
  std::lock_guard<std::mutex> lock(mu_);
  return problem_;
}

bool Informer::Pause(std::chrono::milliseconds delay) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, delay, [this] { return stop_.load(); });
}

void Informer::SetProblem(const std::string& problem, std::chrono::milliseconds retry_in) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    problem_ = problem;
  }
  if (!problem.empty() && log_) {
    log_("informer " + resource_.plural + ": " + problem + "; listing again in " +
         std::to_string(retry_in.count() / 1000) + "s");
  }
}

void Informer::Run() {
  auto backoff = kFirstBackoff;
  while (!stop_) {
    auto version = Relist();
    if (!version.ok()) {
      SetProblem(version.error().message(), backoff);
      if (!Pause(backoff)) return;
      backoff = std::min(backoff * 2, kMaxBackoff);
      continue;
    }
    SetProblem("", {});
    // Watch until the server says the version is gone or something breaks.
    for (;;) {
      auto end = WatchFrom(&*version);
      if (stop_) return;
      if (end.ok() && *end == WatchEnd::kClosed) {
        backoff = kFirstBackoff;
        continue;
      }
      if (!end.ok()) {
        SetProblem(end.error().message(), backoff);
        if (!Pause(backoff)) return;
        backoff = std::min(backoff * 2, kMaxBackoff);
      }
      break;  // expired or failed: relist
    }
  }
}

Result<std::string> Informer::Relist() {
  STASH_ASSIGN_OR_RETURN(ObjectList list, client_->List(resource_, ns_, selectors_));
  std::set<std::string> seen;
  for (const auto& object : list.items) {
    seen.insert(KeyOf(*object));
    ObjectPtr previous;
    Put(object, &previous);
    if (!previous) {
      Notify(nullptr, object);
    } else if (ResourceVersion(*previous) != ResourceVersion(*object)) {
      Notify(previous, object);
    }
  }
  std::vector<std::string> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, object] : store_) {
      if (!seen.count(key)) gone.push_back(key);
    }
  }
  for (const auto& key : gone) {
    if (ObjectPtr removed = Remove(key)) Notify(removed, nullptr);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    synced_ = true;
  }
  cv_.notify_all();
  return list.resource_version;
}

Result<WatchEnd> Informer::WatchFrom(std::string* resource_version) {
  return client_->Watch(
      resource_, ns_, selectors_, *resource_version, watch_timeout_,
      [&](const WatchEvent& event) {
        std::string rv = ResourceVersion(*event.object);
        if (!rv.empty()) *resource_version = rv;
        if (event.type != "BOOKMARK") Apply(event);
        return !stop_.load();
      },
      &stop_);
}

void Informer::Apply(const WatchEvent& event) {
  if (event.type == "DELETED") {
    if (ObjectPtr removed = Remove(KeyOf(*event.object))) Notify(removed, nullptr);
    return;
  }
  ObjectPtr previous;
  Put(event.object, &previous);
  Notify(previous, event.object);
}

void Informer::Notify(const ObjectPtr& old_object, const ObjectPtr& new_object) {
  for (const auto& h : handlers_) {
    if (!old_object && new_object && h.on_add) h.on_add(new_object);
    if (old_object && new_object && h.on_update) h.on_update(old_object, new_object);
    if (old_object && !new_object && h.on_delete) h.on_delete(old_object);
  }
}

void Informer::Put(const ObjectPtr& object, ObjectPtr* previous) {
  std::string key = KeyOf(*object);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = store_.find(key);
  if (it != store_.end()) {
    *previous = it->second;
    Index(key, it->second, false);
    it->second = object;
  } else {
    store_.emplace(key, object);
  }
  Index(key, object, true);
}

ObjectPtr Informer::Remove(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = store_.find(key);
  if (it == store_.end()) return nullptr;
  ObjectPtr removed = it->second;
  Index(key, removed, false);
  store_.erase(it);
  return removed;
}

// Caller holds mu_.
void Informer::Index(const std::string& key, const ObjectPtr& object, bool add) {
  auto update = [&](std::map<std::string, std::set<std::string>>& index, const std::string& term) {
    if (add) {
      index[term].insert(key);
      return;
    }
    auto it = index.find(term);
    if (it == index.end()) return;
    it->second.erase(key);
    if (it->second.empty()) index.erase(it);
  };
  update(by_namespace_, Namespace(*object));
  for (const auto& [k, v] : Labels(*object)) update(by_label_, k + "=" + v);
}

ObjectPtr Informer::Get(const std::string& ns, const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = store_.find(Key(ns, name));
  return it == store_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Informer::List(const std::string& ns) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ObjectPtr> out;
  if (ns.empty()) {
    for (const auto& [key, object] : store_) out.push_back(object);
    return out;
  }
  auto it = by_namespace_.find(ns);
  if (it == by_namespace_.end()) return out;
  for (const auto& key : it->second) out.push_back(store_.at(key));
  return out;
}

std::vector<ObjectPtr> Informer::ByLabel(const std::string& key, const std::string& value) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ObjectPtr> out;
  auto it = by_label_.find(key + "=" + value);
  if (it == by_label_.end()) return out;
  for (const auto& k : it->second) out.push_back(store_.at(k));
  return out;
}

}  // namespace stash::kube
