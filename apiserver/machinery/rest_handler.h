// The generic REST layer over one Storage: list, get, watch, delete and
// deletecollection with Kubernetes semantics (selectors, paging, Tables,
// watch streams, DeleteOptions with dry runs and preconditions, Status
// errors). Requests arrive authenticated and authorized; work that may
// block on storage runs on the request pool.
#pragma once

#include <functional>
#include <memory>
#include <random>
#include <string>

#include "apiserver/machinery/server_types.h"
#include "apiserver/machinery/request_info.h"
#include "apiserver/machinery/resource.h"
#include "base/thread_pool.h"
#include "apiserver/machinery/watch_session.h"

namespace stash::apiserver {

struct RestOptions {
  // Watches without timeoutSeconds end after a random time in [min, 2*min),
  // as kube-apiserver spreads them with --min-request-timeout.
  std::chrono::seconds min_watch_timeout{1800};
};

class RestHandler {
 public:
  RestHandler(Storage& storage, ThreadPool& pool, WatchManager& watches, RestOptions options = {});

  const ResourceInfo& info() const { return storage_.info(); }
  const Storage& storage() const { return storage_; }

  // Answers a request for this resource; `info.resource` names it.
  void Handle(const RequestInfo& info, Request request, UserInfo user,
              std::shared_ptr<Responder> responder);

  // The same, synchronously, for tests and for callers already on a pool
  // thread. Watch requests need Handle.
  Response Serve(const RequestInfo& info, const Request& request, const UserInfo& user);

 private:
  Response List(const RequestInfo& info, const Request& request, const MediaChoice& media);
  Response Get(const RequestInfo& info, const Request& request, const MediaChoice& media);
  Response Delete(const RequestInfo& info, const Request& request, const UserInfo& user);
  Response DeleteCollection(const RequestInfo& info, const Request& request, const UserInfo& user);
  void Watch(const RequestInfo& info, const Request& request, const MediaChoice& media,
             std::shared_ptr<Responder> responder);
  std::chrono::seconds WatchTimeout(const ListOptions& options);

  Storage& storage_;
  ThreadPool& pool_;
  WatchManager& watches_;
  RestOptions options_;
  std::mutex rng_mu_;
  std::mt19937 rng_{std::random_device{}()};
};

// Adds a Kubernetes "Warning: 299 - \"...\"" header per warning.
void AddWarnings(Headers& headers, const std::vector<std::string>& warnings);

}  // namespace stash::apiserver
