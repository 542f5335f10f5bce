#include "apiserver/machinery/proto_writer.h"

namespace stash::apiserver {
namespace {

enum WireType { kVarint = 0, kLengthDelimited = 2 };

}  // namespace

void ProtoWriter::Varint(uint64_t v) {
  while (v >= 0x80) {
    out_ += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out_ += static_cast<char>(v);
}

void ProtoWriter::Tag(int field, int wire_type) {
  Varint((static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(wire_type));
}

ProtoWriter& ProtoWriter::String(int field, std::string_view value) {
  return value.empty() ? *this : Bytes(field, value);
}

ProtoWriter& ProtoWriter::Bytes(int field, std::string_view value) {
  Tag(field, kLengthDelimited);
  Varint(value.size());
  out_.append(value);
  return *this;
}

ProtoWriter& ProtoWriter::Bool(int field, bool value, bool keep_false) {
  if (!value && !keep_false) return *this;
  Tag(field, kVarint);
  Varint(value ? 1 : 0);
  return *this;
}

}  // namespace stash::apiserver
