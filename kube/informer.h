// Informer: a local, always-current copy of one kind of object, as
// client-go's shared informer keeps it.
//
// A thread of its own lists the objects (paged), then watches from the
// list's resourceVersion, applying each event to the store and calling the
// handlers. A watch the server ends is resumed from the last version seen
// (bookmarks move it on); 410 Gone, an event that fails to parse or a
// broken connection start over with a fresh list after a backoff (1 s
// doubling to 30 s, reset once a watch delivers events). A relist tells the
// handlers what changed while nobody was looking, deletions included.
//
// Handlers run on the informer's thread, one at a time, and must not block
// for long: a reconciler enqueues a key and returns.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kube/client.h"

namespace stash::kube {

using LogFn = std::function<void(const std::string&)>;

struct InformerHandlers {
  std::function<void(const ObjectPtr&)> on_add;
  std::function<void(const ObjectPtr& old_object, const ObjectPtr& new_object)> on_update;
  std::function<void(const ObjectPtr&)> on_delete;
};

class Informer {
 public:
  // Watches `resource` in namespace `ns` ("" for all) matching `selectors`.
  Informer(Client* client, Resource resource, std::string ns = "", ListOptions selectors = {},
           LogFn log = nullptr);
  ~Informer();  // Stop()
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Before Start(): handlers run for every change, starting with an add for
  // each object of the first list.
  void AddHandlers(InformerHandlers handlers);
  void Start();
  void Stop();

  // Whether the first list has been stored, waiting up to `timeout`.
  bool WaitForSync(std::chrono::milliseconds timeout);
  bool synced() const { return synced_.load(); }
  // Why the store may be stale: the last list or watch error while it has
  // not recovered ("" when the watch is healthy).
  std::string problem() const;

  ObjectPtr Get(const std::string& ns, const std::string& name) const;
  // Every object, or those of one namespace, sorted by key.
  std::vector<ObjectPtr> List(const std::string& ns = "") const;
  // Objects whose label `key` has `value`.
  std::vector<ObjectPtr> ByLabel(const std::string& key, const std::string& value) const;
  const Resource& resource() const { return resource_; }

  // How long the server may keep one watch open (tests shorten it).
  void set_watch_timeout(std::chrono::seconds t) { watch_timeout_ = t; }

 private:
  void Run();
  Result<std::string> Relist();
  Result<WatchEnd> WatchFrom(std::string* resource_version);
  void Apply(const WatchEvent& event);
  void Put(const ObjectPtr& object, ObjectPtr* previous);
  ObjectPtr Remove(const std::string& key);
  void Index(const std::string& key, const ObjectPtr& object, bool add);
  void SetProblem(const std::string& problem, std::chrono::milliseconds retry_in);
  void Notify(const ObjectPtr& old_object, const ObjectPtr& new_object);
  bool Pause(std::chrono::milliseconds delay);  // false once stopping

  Client* client_;
  Resource resource_;
  std::string ns_;
  ListOptions selectors_;
  LogFn log_;
  std::vector<InformerHandlers> handlers_;
  std::chrono::seconds watch_timeout_{300};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, ObjectPtr> store_;
  std::map<std::string, std::set<std::string>> by_namespace_;
  std::map<std::string, std::set<std::string>> by_label_;  // "key=value" -> keys
  std::string problem_;
  std::atomic<bool> synced_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace stash::kube
