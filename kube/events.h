// EventRecorder: core/v1 Events about objects, as `kubectl describe` and
// `kubectl get events` show them. A repeat of the same event (object,
// type, reason, message) within ten minutes bumps the existing Event's
// count and lastTimestamp instead of creating another, as client-go's
// recorder does. Recording is best effort: a failure is logged, never
// returned, since an Event must not fail the work it reports on.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "kube/client.h"
#include "kube/informer.h"

namespace stash::kube {

// The object an Event is about.
struct ObjectReference {
  std::string api_version, kind, ns, name, uid, resource_version;
  static ObjectReference Of(const Json& object);
};

class EventRecorder {
 public:
  // `component` is the reporting controller ("stash-operator"), `host` the
  // node or pod it runs on.
  EventRecorder(Client* client, std::string component, std::string host = "", LogFn log = nullptr);

  void Normal(const ObjectReference& about, const std::string& reason, const std::string& message) {
    Record(about, "Normal", reason, message);
  }
  void Warning(const ObjectReference& about, const std::string& reason, const std::string& message) {
    Record(about, "Warning", reason, message);
  }
  void Record(const ObjectReference& about, const std::string& type, const std::string& reason,
              const std::string& message);

 private:
  struct Seen {
    std::string ns, name;
    int count = 0;
    std::chrono::steady_clock::time_point at;
  };
  bool Bump(Seen& seen, const std::string& now);

  Client* client_;
  std::string component_, host_;
  LogFn log_;
  std::mutex mu_;
  std::map<std::string, Seen> seen_;
};

// RFC 3339 in UTC with seconds ("2026-12-03T18:25:00Z"), as metav1.Time.
std::string Rfc3339Now();
std::string Rfc3339(std::chrono::system_clock::time_point t);
// RFC 3339 with microseconds, as metav1.MicroTime (Lease times).
std::string Rfc3339Micro(std::chrono::system_clock::time_point t);

}  // namespace stash::kube
