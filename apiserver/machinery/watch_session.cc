#include "apiserver/machinery/watch_session.h"

#include <algorithm>

namespace stash::apiserver {

WatchSession::WatchSession(const Storage& storage, std::string ns, ListOptions options,
                           RenderOptions render, std::shared_ptr<StreamWriter> writer,
                           Clock::time_point deadline)
    : storage_(storage),
      ns_(std::move(ns)),
      options_(std::move(options)),
      render_(std::move(render)),
      writer_(std::move(writer)),
      deadline_(deadline),
      next_bookmark_(Clock::now() + kBookmarkInterval) {}

bool WatchSession::Send(const WatchEvent& event) {
  WatchEvent::Type type = event.type;
  ObjectPtr shown = event.object;
  bool matches = MatchesListOptions(*event.object, ns_, options_);
  if (type == WatchEvent::kModified && event.previous) {
    bool matched = MatchesListOptions(*event.previous, ns_, options_);
    if (matches && !matched) {
      type = WatchEvent::kAdded;
    } else if (!matches && matched) {
      // The object as this watcher last saw it, at the event's version.
      type = WatchEvent::kDeleted;
      shown = WithResourceVersion(event.previous, event.object->meta.resource_version);
      matches = true;
    }
  }
  if (!matches) return !writer_->closed();
  RenderOptions r = render_;
  r.now = NowSeconds();
  // A Table stream carries the column definitions on its first event only.
  r.table_headers = !headers_sent_.exchange(true);
  std::string object = RenderObject(storage_.info(), storage_.columns(), shown, r);
  return writer_->Write(WatchLine(EventTypeName(type), object));
}

void WatchSession::SendBookmark(uint64_t resource_version, bool initial_events_end) {
  std::string object = RenderBookmark(storage_.info(), resource_version, initial_events_end, render_);
  writer_->Write(WatchLine("BOOKMARK", object));
}

void WatchSession::SendError(const ApiStatus& status) {
  writer_->Write(WatchLine("ERROR", StatusJson(status)));
}

void WatchSession::Start(WatchHub& hub, uint64_t from) {
  hub_ = &hub;
  auto sub = hub.Subscribe(from, [this](const WatchEvent& e) { Send(e); });
  if (!sub.ok()) {
    SendError(ExpiredStatus(sub.error().message()));
    finished_ = true;
    writer_->End();
    return;
  }
  subscription_ = std::move(*sub);
  if (options_.send_initial_events && options_.allow_bookmarks) {
    hub.AtCurrentVersion([&](uint64_t v) { SendBookmark(std::max(v, from), true); });
  }
}

void WatchSession::Tick(Clock::time_point now) {
  if (finished_) return;
  if (writer_->closed()) {
    finished_ = true;
    subscription_.reset();
    return;
  }
  if (now >= deadline_) {
    Finish();
    return;
  }
  if (options_.allow_bookmarks && now >= next_bookmark_ && hub_) {
    next_bookmark_ = now + kBookmarkInterval;
    hub_->AtCurrentVersion([&](uint64_t v) { SendBookmark(v); });
  }
}

void WatchSession::Finish() {
  if (finished_.exchange(true)) return;
  // Stop events first so none follows the last bookmark.
  subscription_.reset();
  if (options_.allow_bookmarks && hub_) SendBookmark(hub_->version());
  writer_->End();
}

bool WatchSession::done() const { return finished_; }

WatchManager::WatchManager(std::chrono::milliseconds tick) : tick_(tick) {
  thread_ = std::thread([this] { Loop(); });
}

WatchManager::~WatchManager() { Stop(); }

void WatchManager::Add(std::shared_ptr<WatchSession> session) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) {
    session->Finish();
    return;
  }
  sessions_.push_back(std::move(session));
}

void WatchManager::Stop() {
  std::vector<std::shared_ptr<WatchSession>> sessions;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    sessions.swap(sessions_);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& s : sessions) s->Finish();
}

size_t WatchManager::active() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

void WatchManager::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, tick_);
    if (stopping_) break;
    auto sessions = sessions_;
    lock.unlock();
    auto now = WatchSession::Clock::now();
    for (auto& s : sessions) s->Tick(now);
    lock.lock();
    std::erase_if(sessions_, [](const auto& s) { return s->done(); });
  }
}

}  // namespace stash::apiserver
