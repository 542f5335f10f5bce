#include "net/server/outgoing_queue.h"

#include <algorithm>

namespace stash::server {

void OutgoingQueue::Push(std::string bytes) {
  if (bytes.empty()) return;
  remaining_ += bytes.size();
  Item item;
  item.bytes = std::move(bytes);
  items_.push_back(std::move(item));
}

void OutgoingQueue::Push(PiecedText body) {
  if (body.empty()) return;
  remaining_ += body.size();
  Item item;
  item.body = std::move(body);
  item.pieced = true;
  items_.push_back(std::move(item));
}

void OutgoingQueue::DropFinished() {
  while (!items_.empty() && piece_ == items_.front().count()) {
    items_.pop_front();
    piece_ = 0;
    offset_ = 0;
  }
}

void OutgoingQueue::Advance(size_t n) {
  remaining_ -= n;
  offset_ += n;
  const Item& front = items_.front();
  // Empty pieces (a PiecedText has none, but be safe) are skipped too.
  while (piece_ < front.count() && offset_ == front.piece(piece_).size()) {
    ++piece_;
    offset_ = 0;
  }
}

std::string_view OutgoingQueue::Next(size_t max) {
  DropFinished();
  if (items_.empty() || max == 0) return {};
  std::string_view rest = items_.front().piece(piece_).substr(offset_);
  // A piece of a record or more goes as it is.
  if (rest.size() >= std::min(max, kRecord)) {
    rest = rest.substr(0, max);
    Advance(rest.size());
    return rest;
  }
  // Gather small pieces, across items, into one record.
  const size_t want = std::min(max, kRecord);
  stage_.clear();
  while (stage_.size() < want && !empty()) {
    DropFinished();
    const Item& front = items_.front();
    // Pieces lie apart in memory (each sealed object was allocated on its
    // own): start fetching a few ahead while this one is copied.
    if (piece_ + 4 < front.count()) {
      std::string_view ahead = front.piece(piece_ + 4);
      for (size_t at = 0; at < ahead.size(); at += 64) __builtin_prefetch(ahead.data() + at);
    }
    std::string_view part = front.piece(piece_).substr(offset_);
    part = part.substr(0, want - stage_.size());
    stage_.append(part);
    Advance(part.size());
  }
  return stage_;
}

void OutgoingQueue::Clear() {
  items_.clear();
  piece_ = 0;
  offset_ = 0;
  remaining_ = 0;
  stage_.clear();
}

}  // namespace stash::server
