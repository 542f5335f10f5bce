#include "apiserver/machinery/watch.h"

namespace stash::apiserver {

const char* EventTypeName(WatchEvent::Type type) {
  switch (type) {
    case WatchEvent::kAdded: return "ADDED";
    case WatchEvent::kModified: return "MODIFIED";
    case WatchEvent::kDeleted: return "DELETED";
  }
  return "ERROR";
}

WatchHub::WatchHub(uint64_t first_version, size_t history)
    : next_version_(first_version),
      published_(first_version),
      forgotten_upto_(first_version),
      capacity_(history ? history : 1) {}

uint64_t WatchHub::NextVersion() {
  std::lock_guard<std::mutex> lock(mu_);
  return ++next_version_;
}

void WatchHub::Publish(WatchEvent event) {
  std::lock_guard<std::mutex> lock(mu_);
  published_ = event.object->meta.resource_version;
  for (auto& [id, sink] : sinks_) sink(event);
  history_.push_back(std::move(event));
  while (history_.size() > capacity_) {
    forgotten_upto_ = history_.front().object->meta.resource_version;
    history_.pop_front();
  }
}

uint64_t WatchHub::version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return published_;
}

WatchHub::Subscription::~Subscription() { hub_->Unsubscribe(id_); }

Result<std::unique_ptr<WatchHub::Subscription>> WatchHub::Subscribe(uint64_t from, EventSink sink) {
  std::lock_guard<std::mutex> lock(mu_);
  if (from < forgotten_upto_ || from > published_) {
    return NotFound("too old resource version: " + std::to_string(from) + " (" +
                    std::to_string(forgotten_upto_ + 1) + ")");
  }
  for (const auto& e : history_) {
    if (e.object->meta.resource_version > from) sink(e);
  }
  uint64_t id = next_id_++;
  sinks_.emplace(id, std::move(sink));
  return std::unique_ptr<Subscription>(new Subscription(this, id));
}

void WatchHub::AtCurrentVersion(const std::function<void(uint64_t)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  fn(published_);
}

size_t WatchHub::subscribers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sinks_.size();
}

void WatchHub::Unsubscribe(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  sinks_.erase(id);
}

}  // namespace stash::apiserver
