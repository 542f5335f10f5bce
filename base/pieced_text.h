// PiecedText: a long text as a sequence of pieces, some copied into it and
// some only pointed at, so that a large answer made of cached parts (ten
// thousand sealed objects in a list) is never joined into one string: a
// writer walks the pieces.
//
// Pieces it points at must outlive it; Keep() holds their owners. Copied
// text lives in one buffer of its own, and runs of copies make one piece.
// Movable; not thread-safe, but a finished PiecedText may be read from any
// thread.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace stash {

class PiecedText {
 public:
  // Appends a copy of `text`.
  void Copy(std::string_view text) {
    if (text.empty()) return;
    if (pieces_.empty() || pieces_.back().elsewhere) pieces_.push_back({nullptr, copied_.size(), 0});
    copied_.append(text);
    pieces_.back().size += text.size();
    size_ += text.size();
  }
  // Appends `bytes` where they are: they must outlive this text.
  void Point(std::string_view bytes) {
    if (bytes.empty()) return;
    pieces_.push_back({bytes.data(), 0, bytes.size()});
    size_ += bytes.size();
  }
  // Holds `owner` (what pointed-at pieces live in) as long as this text.
  void Keep(std::shared_ptr<const void> owner) { owners_.push_back(std::move(owner)); }
  void Reserve(size_t pieces, size_t copied) {
    pieces_.reserve(pieces);
    copied_.reserve(copied);
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t piece_count() const { return pieces_.size(); }
  std::string_view piece(size_t i) const {
    const Piece& p = pieces_[i];
    return {p.elsewhere ? p.elsewhere : copied_.data() + p.offset, p.size};
  }
  // The whole text in one string (tests, and callers that need it whole).
  std::string Join() const {
    std::string out;
    out.reserve(size_);
    for (size_t i = 0; i < pieces_.size(); ++i) out += piece(i);
    return out;
  }

 private:
  struct Piece {
    const char* elsewhere;  // null: the piece is in copied_, at offset
    size_t offset;
    size_t size;
  };
  std::vector<Piece> pieces_;
  std::string copied_;  // grows; pieces refer to it by offset, so that is safe
  std::vector<std::shared_ptr<const void>> owners_;
  size_t size_ = 0;
};

}  // namespace stash
