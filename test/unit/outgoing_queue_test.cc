// PiecedText and OutgoingQueue: a body of copied and pointed-at pieces goes
// out byte for byte, in order, small pieces gathered into whole records and
// large ones handed out where they are.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "base/pieced_text.h"
#include "net/server/outgoing_queue.h"

using stash::PiecedText;
using stash::server::OutgoingQueue;

TEST_CASE("PiecedText: copies merge, pointed pieces stay where they are") {
  auto owner = std::make_shared<std::string>(std::string(300, 'x'));
  PiecedText t;
  CHECK(t.empty());
  t.Copy("{\"items\":[");
  t.Copy("");
  t.Point(*owner);
  t.Copy(",");
  t.Copy("\"y\"");
  t.Point("");
  t.Copy("]}");
  t.Keep(owner);
  CHECK(t.piece_count() == 3);  // the head, the object, and ",\"y\"]}" (runs of copies merge)
  CHECK(t.piece(1).data() == owner->data());
  CHECK(t.Join() == "{\"items\":[" + *owner + ",\"y\"]}");
  CHECK(t.size() == t.Join().size());
  PiecedText moved = std::move(t);
  CHECK(moved.Join() == "{\"items\":[" + *owner + ",\"y\"]}");
}

namespace {

// Drains the queue with Next(max) and returns what came out; records the
// largest span.
std::string Drain(OutgoingQueue& q, size_t max, size_t* largest = nullptr, size_t* calls = nullptr) {
  std::string out;
  while (!q.empty()) {
    std::string_view s = q.Next(max);
    REQUIRE(!s.empty());
    REQUIRE(s.size() <= max);
    out += s;
    if (largest && s.size() > *largest) *largest = s.size();
    if (calls) ++*calls;
  }
  CHECK(q.Next(max).empty());
  return out;
}

}  // namespace

TEST_CASE("OutgoingQueue: strings and pieced bodies in order, byte for byte") {
  // 3000 objects of 1 to 700 bytes, like a list of sealed snapshots, between
  // a head string and a trailing string.
  auto objects = std::make_shared<std::vector<std::string>>();
  for (int i = 0; i < 3000; ++i) objects->push_back(std::string(1 + (i * 37) % 700, static_cast<char>('a' + i % 26)));
  objects->push_back(std::string(100000, 'L'));  // one large piece
  for (size_t max : {1u, 7u, 1000u, 16384u, 65536u, 256u * 1024}) {
    INFO("max " << max);
    PiecedText body;
    body.Keep(objects);
    std::string want = "HTTP/1.1 200 OK\r\n\r\n";
    for (const auto& o : *objects) {
      body.Point(o);
      body.Copy(",");
      want += o + ",";
    }
    OutgoingQueue q;
    q.Push(std::string("HTTP/1.1 200 OK\r\n\r\n"));
    q.Push(std::move(body));
    q.Push(std::string("tail"));
    q.Push(std::string());
    q.Push(PiecedText());
    want += "tail";
    CHECK(q.remaining() == want.size());
    size_t largest = 0, calls = 0;
    CHECK(Drain(q, max, &largest, &calls) == want);
    // Gathered spans fill a record (or max); the large piece goes where it
    // is, in spans of up to max (less what a record before it took).
    if (max <= OutgoingQueue::kRecord) CHECK(largest == max);
    if (max > OutgoingQueue::kRecord) CHECK(largest >= std::min<size_t>(max, 100000 - OutgoingQueue::kRecord));
    if (max >= OutgoingQueue::kRecord) {
      // Whole records but for the large piece's tail and the end.
      CHECK(calls <= want.size() / OutgoingQueue::kRecord + 4);
    }
  }
}

TEST_CASE("OutgoingQueue: a view stays valid until the next call; Clear drops everything") {
  OutgoingQueue q;
  q.Push(std::string(20000, 'a'));
  std::string_view first = q.Next(1 << 20);
  CHECK(first == std::string(20000, 'a'));  // the whole string, where it is
  q.Push(std::string("b"));
  CHECK(q.Next(10) == "b");
  CHECK(q.empty());
  q.Push(std::string("c"));
  q.Clear();
  CHECK(q.empty());
  CHECK(q.Next(10).empty());
}
