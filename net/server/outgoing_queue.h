// OutgoingQueue: what a connection has yet to send, in order: whole strings
// (a response head, a chunk of a stream) and pieced bodies (PiecedText).
//
// Next() hands the plaintext out for encryption a span at a time. A large
// piece goes out where it is; small ones (a list's ten thousand sealed
// objects of a few hundred bytes) are gathered into one TLS record's worth,
// since encrypting each alone would make a record of each.
//
// Not thread-safe: the connection's strand owns it.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>

#include "base/pieced_text.h"

namespace stash::server {

class OutgoingQueue {
 public:
  // The most plaintext one TLS record carries.
  static constexpr size_t kRecord = 16384;

  void Push(std::string bytes);
  void Push(PiecedText body);

  // Bytes queued and not yet handed out by Next.
  size_t remaining() const { return remaining_; }
  bool empty() const { return remaining_ == 0; }

  // The next at most `max` (> 0) bytes, consumed: a view valid until the
  // next call to Next, Push or Clear. Empty only when the queue is.
  std::string_view Next(size_t max);

  // Drops everything, sent or not.
  void Clear();

 private:
  struct Item {
    std::string bytes;  // when !pieced
    PiecedText body;
    bool pieced = false;
    size_t count() const { return pieced ? body.piece_count() : 1; }
    std::string_view piece(size_t i) const { return pieced ? body.piece(i) : std::string_view(bytes); }
  };
  // Moves past `n` bytes of the current piece, and past finished items but
  // the front one (views into it may still be in use).
  void Advance(size_t n);
  void DropFinished();

  std::deque<Item> items_;
  size_t piece_ = 0;   // of items_.front()
  size_t offset_ = 0;  // into that piece
  size_t remaining_ = 0;
  std::string stage_;  // small pieces gathered into one record
};

}  // namespace stash::server
