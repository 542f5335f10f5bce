// ProtoWriter: writes Protocol Buffers wire format (proto3 encoding rules)
// for the few documents we serve as protobuf. Fields are written in the
// order they are added; zero values are skipped, as proto3 encoders do.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace stash::apiserver {

class ProtoWriter {
 public:
  // Length-delimited: a string or bytes field (skipped when empty).
  ProtoWriter& String(int field, std::string_view value);
  // Length-delimited even when empty: an element of a repeated string, or
  // a message that must be present (a set oneof member, an item of a list).
  ProtoWriter& Bytes(int field, std::string_view value);
  ProtoWriter& Message(int field, const ProtoWriter& message) { return Bytes(field, message.out_); }
  // A bool; false is skipped unless `keep_false` (a set oneof member).
  ProtoWriter& Bool(int field, bool value, bool keep_false = false);

  const std::string& bytes() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Tag(int field, int wire_type);
  void Varint(uint64_t v);

  std::string out_;
};

}  // namespace stash::apiserver
