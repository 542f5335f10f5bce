// WatchHub: the change feed of one resource.
//
// A storage publishes an event for every object it adds or removes; the hub
// numbers nothing itself but keeps the last `history` events so a watch can
// resume from a resourceVersion, and hands every event to the subscribers.
// A resumption point older than the history (or from before this process
// started) is refused, and the client relists: Kubernetes' 410 Expired.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "apiserver/machinery/object.h"
#include "base/result.h"

namespace stash::apiserver {

struct WatchEvent {
  enum Type { kAdded, kModified, kDeleted };
  Type type = kAdded;
  ObjectPtr object;  // object->meta.resource_version is the event's version
  // Of a MODIFIED event, the object it replaces: a watcher whose selectors
  // the change crosses sees ADDED, or DELETED of this one (as kube-apiserver's
  // watch cache sends them).
  ObjectPtr previous = nullptr;
};
const char* EventTypeName(WatchEvent::Type type);

// Receives events with the hub locked, in version order: it must only queue
// them (for a connection), never block.
using EventSink = std::function<void(const WatchEvent&)>;

class WatchHub {
 public:
  // Versions handed out start after `first_version`. Starting above any
  // number an earlier process used (the start time in microseconds) makes a
  // client's version from before a restart look too old rather than from
  // the future.
  WatchHub(uint64_t first_version, size_t history);
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // The version for an object about to be published. A storage holds its
  // own lock from NextVersion until Publish, so events leave in order.
  uint64_t NextVersion();
  void Publish(WatchEvent event);
  // The version of the last published event (or the first version).
  uint64_t version() const;

  class Subscription {
   public:
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

   private:
    friend class WatchHub;
    Subscription(WatchHub* hub, uint64_t id) : hub_(hub), id_(id) {}
    WatchHub* hub_;
    uint64_t id_;
  };

  // Delivers every event after version `from` (replayed from the history)
  // and then each new one, with no gap. kNotFound when events after `from`
  // are no longer all known: the caller answers 410 Expired. Destroying
  // the subscription stops delivery; the sink is not called afterwards.
  Result<std::unique_ptr<Subscription>> Subscribe(uint64_t from, EventSink sink);

  // Runs fn(version of the last published event) with publishing held off,
  // so a bookmark written by fn never runs ahead of the events.
  void AtCurrentVersion(const std::function<void(uint64_t)>& fn);

  size_t subscribers() const;

 private:
  void Unsubscribe(uint64_t id);

  mutable std::mutex mu_;
  uint64_t next_version_;       // last one handed out by NextVersion
  uint64_t published_;          // version of the last published event
  uint64_t forgotten_upto_;     // events up to here are no longer in history_
  size_t capacity_;
  std::deque<WatchEvent> history_;
  std::map<uint64_t, EventSink> sinks_;
  uint64_t next_id_ = 1;
};

}  // namespace stash::apiserver
