// One watch request's stream, and the manager that ends streams on time.
//
// A WatchSession filters the hub's events with the request's namespace and
// selectors, renders them as the client asked (objects, Table rows with the
// column definitions only on the first event, or PartialObjectMetadata),
// and queues them on the connection. The WatchManager's ticker sends
// bookmarks, ends streams at timeoutSeconds (after a last bookmark, so the
// client resumes without relisting) and forgets streams whose client left.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "apiserver/machinery/server_types.h"
#include "apiserver/machinery/list_options.h"
#include "apiserver/machinery/render.h"
#include "apiserver/machinery/resource.h"
#include "apiserver/machinery/status.h"

namespace stash::apiserver {

class WatchSession {
 public:
  using Clock = std::chrono::steady_clock;

  WatchSession(const Storage& storage, std::string ns, ListOptions options, RenderOptions render,
               std::shared_ptr<StreamWriter> writer, Clock::time_point deadline);

  // Sends the event if the object matches; false once the stream is closed.
  bool Send(const WatchEvent& event);
  void SendBookmark(uint64_t resource_version, bool initial_events_end = false);
  // An ERROR event carrying a Status (410 Expired), after which the stream ends.
  void SendError(const ApiStatus& status);

  // Subscribes to `hub` from `from`; an expired version gets an ERROR event
  // and ends the stream.
  void Start(WatchHub& hub, uint64_t from);

  // Called by the manager's ticker: bookmarks and the deadline.
  void Tick(Clock::time_point now);
  // Ends the stream (after a bookmark when the client allows them).
  void Finish();
  bool done() const;

 private:
  const Storage& storage_;
  std::string ns_;
  ListOptions options_;
  RenderOptions render_;
  std::shared_ptr<StreamWriter> writer_;
  Clock::time_point deadline_, next_bookmark_;
  WatchHub* hub_ = nullptr;
  std::unique_ptr<WatchHub::Subscription> subscription_;
  std::atomic<bool> headers_sent_{false};
  std::atomic<bool> finished_{false};
};

class WatchManager {
 public:
  explicit WatchManager(std::chrono::milliseconds tick = std::chrono::milliseconds(250));
  ~WatchManager();

  void Add(std::shared_ptr<WatchSession> session);
  // Ends every stream (server shutdown) and stops the ticker.
  void Stop();
  size_t active() const;

 private:
  void Loop();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<WatchSession>> sessions_;
  std::chrono::milliseconds tick_;
  bool stopping_ = false;
  std::thread thread_;
};

// How often an idle watch gets a bookmark when it allows them.
inline constexpr std::chrono::seconds kBookmarkInterval{30};

}  // namespace stash::apiserver
