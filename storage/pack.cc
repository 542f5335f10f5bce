#include "storage/pack.h"

#include <cstring>

#include "storage/compression.h"

namespace stash {
namespace {

void PutU32(Bytes& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

uint32_t GetU32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

}  // namespace

const char* BlobTypeName(BlobType type) {
  return type == BlobType::kTree ? "tree" : "data";
}

uint64_t PackHeaderSize(const std::vector<PackedBlob>& blobs) {
  uint64_t size = kCipherOverhead + 4;
  for (const auto& b : blobs) size += b.compressed() ? kPackCompressedEntrySize : kPackEntrySize;
  return size;
}

void PackWriter::Add(BlobType type, const Id& id, ByteView payload,
                     uint32_t uncompressed_length) {
  if (data_.capacity() == 0 && expected_size_ > 0) data_.reserve(expected_size_);
  PackedBlob blob;
  blob.type = type;
  blob.id = id;
  blob.offset = static_cast<uint32_t>(data_.size());
  SealAppend(key_, payload, data_);
  blob.length = static_cast<uint32_t>(data_.size() - blob.offset);
  blob.uncompressed_length = uncompressed_length;
  blobs_.push_back(blob);
}

void PackWriter::AddPlaintext(BlobType type, const Id& id, ByteView plaintext, int zstd_level) {
  if (zstd_level != 0 && !plaintext.empty()) {
    thread_local Bytes scratch;  // reused: no allocation per blob
    size_t n = ZstdCompressInto(plaintext, scratch, zstd_level);
    if (n > 0 && n < plaintext.size()) {
      Add(type, id, ByteView(scratch.data(), n), static_cast<uint32_t>(plaintext.size()));
      return;
    }
  }
  Add(type, id, plaintext, 0);
}

Bytes PackWriter::Finish(Id& id, std::vector<PackedBlob>& blobs) {
  Bytes header;
  header.reserve(blobs_.size() * kPackCompressedEntrySize);
  for (const auto& b : blobs_) {
    uint8_t type = static_cast<uint8_t>(b.type) + (b.compressed() ? 2 : 0);
    header.push_back(type);
    PutU32(header, b.length);
    if (b.compressed()) PutU32(header, b.uncompressed_length);
    header.insert(header.end(), b.id.bytes.begin(), b.id.bytes.end());
  }
  size_t before = data_.size();
  SealAppend(key_, header, data_);
  PutU32(data_, static_cast<uint32_t>(data_.size() - before));
  id = Sha256(data_);
  blobs = std::move(blobs_);
  blobs_.clear();
  Bytes pack = std::move(data_);
  data_.clear();
  return pack;
}

Result<uint32_t> PackHeaderLength(ByteView trailer, uint64_t pack_size) {
  if (pack_size < 4 + kCipherOverhead || trailer.size() < 4) {
    return Corrupt("pack is too small (" + std::to_string(pack_size) + " bytes)");
  }
  uint32_t hlen = GetU32(trailer.data() + trailer.size() - 4);
  if (hlen < kCipherOverhead + kPackEntrySize) {
    return Corrupt("pack header is too small (" + std::to_string(hlen) + " bytes)");
  }
  if (hlen > kMaxPackHeaderSize || hlen > pack_size - 4) {
    return Corrupt("pack header length " + std::to_string(hlen) + " is larger than the pack");
  }
  return hlen;
}

Result<std::vector<PackedBlob>> ParsePackHeader(const CryptoKey& key, ByteView tail,
                                                uint64_t pack_size) {
  STASH_ASSIGN_OR_RETURN(uint32_t hlen, PackHeaderLength(tail, pack_size));
  if (tail.size() < size_t{hlen} + 4) return Corrupt("pack tail is shorter than its header");
  auto sealed = tail.subspan(tail.size() - 4 - hlen, hlen);
  auto plain = Open(key, sealed);
  if (!plain.ok()) return plain.error().Wrap("pack header");
  const Bytes& h = *plain;
  std::vector<PackedBlob> blobs;
  uint64_t offset = 0;
  uint64_t data_end = pack_size - 4 - hlen;
  for (size_t pos = 0; pos < h.size();) {
    uint8_t type = h[pos];
    if (type > 3) return Corrupt("pack header: invalid blob type " + std::to_string(type));
    bool compressed = type >= 2;
    size_t entry = compressed ? kPackCompressedEntrySize : kPackEntrySize;
    if (h.size() - pos < entry) return Corrupt("pack header: truncated entry");
    PackedBlob b;
    b.type = static_cast<BlobType>(type & 1);
    b.length = GetU32(&h[pos + 1]);
    if (compressed) b.uncompressed_length = GetU32(&h[pos + 5]);
    std::memcpy(b.id.bytes.data(), &h[pos + entry - 32], 32);
    if (b.length < kCipherOverhead || (compressed && b.uncompressed_length == 0)) {
      return Corrupt("pack header: invalid length for blob " + b.id.Hex());
    }
    b.offset = static_cast<uint32_t>(offset);
    offset += b.length;
    if (offset > data_end) return Corrupt("pack header: blob " + b.id.Hex() + " extends past the data");
    blobs.push_back(b);
    pos += entry;
  }
  if (blobs.empty()) return Corrupt("pack header: no blobs");
  return blobs;
}

}  // namespace stash
