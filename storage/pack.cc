#include "storage/pack.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "storage/compression.h"
#include "storage/temp_file.h"

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

PackFile& PackFile::operator=(PackFile&& other) noexcept {
  if (this != &other) {
    Close();
    id = other.id;
    blobs = std::move(other.blobs);
    fd_ = std::exchange(other.fd_, -1);
    map_ = std::exchange(other.map_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

ByteView PackFile::bytes() const {
  if (!map_ && fd_ >= 0 && size_ > 0) {
    void* map = mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd_, 0);
    if (map == MAP_FAILED) return {};
    madvise(map, size_, MADV_SEQUENTIAL);
    map_ = map;
  }
  return {static_cast<const uint8_t*>(map_), map_ ? size_ : 0};
}

void PackFile::Close() {
  if (map_) munmap(map_, size_);
  if (fd_ >= 0) close(fd_);
  map_ = nullptr;
  fd_ = -1;
  size_ = 0;
}

PackWriter::~PackWriter() { Reset(); }

std::vector<PackedBlob> PackWriter::Discard() {
  std::vector<PackedBlob> lost = std::move(blobs_);
  Reset();
  return lost;
}

void PackWriter::Reset() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  size_ = 0;
  hasher_.reset();
  blobs_.clear();
  pending_.clear();
}

Status PackWriter::Append(ByteView bytes) {
  if (fd_ < 0) {
    std::string dir = TempFolder(temp_dir_);
    fd_ = OpenUnnamedFile(dir, "stash-pack");
    if (fd_ < 0) return IOError("creating a temporary pack file in " + dir + ": " + std::strerror(errno));
    hasher_ = std::make_unique<Sha256Hasher>();
  }
  hasher_->Update(bytes);
  size_ += bytes.size();
  if (pending_.size() + bytes.size() <= kWriteBuffer) {
    pending_.insert(pending_.end(), bytes.begin(), bytes.end());
    return Status::Ok();
  }
  STASH_RETURN_IF_ERROR(Flush());
  if (bytes.size() >= kWriteBuffer) return WriteOut(bytes);
  pending_.assign(bytes.begin(), bytes.end());
  return Status::Ok();
}

Status PackWriter::Flush() {
  Status written = WriteOut(pending_);
  pending_.clear();
  return written;
}

Status PackWriter::WriteOut(ByteView bytes) {
  for (size_t done = 0; done < bytes.size();) {
    ssize_t n = write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string why = n < 0 ? std::strerror(errno) : "no space written";
      close(fd_);  // the blobs so far stay listed for Discard
      fd_ = -1;
      size_ = 0;
      hasher_.reset();
      pending_.clear();
      return IOError("writing a temporary pack file: " + why);
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

namespace {

// Each thread seals its blobs in one buffer, reused: a blob is compressed
// straight into it after room for the nonce and encrypted there, so a blob
// in the making takes one buffer per thread, not a compressed copy and a
// sealed one. One very large blob (a big tree) does not keep it for good.
// One SealBuffer at a time per thread: they share the thread's buffer. It
// is raw memory, not a vector: growing a vector would zero the compression
// bound of every new size, touching pages zstd then never writes.
class SealBuffer {
 public:
  static constexpr size_t kKeepAtMost = 16u << 20;
  explicit SealBuffer(size_t payload) : buf_(ThreadBuffer()) {
    if (buf_.size < payload + kCipherOverhead) {
      buf_.data.reset();  // before the new one: never both at once
      buf_.data.reset(new uint8_t[payload + kCipherOverhead]);
      buf_.size = payload + kCipherOverhead;
    }
  }
  ~SealBuffer() {
    if (buf_.size > kKeepAtMost) buf_ = Raw();
  }
  SealBuffer(const SealBuffer&) = delete;
  SealBuffer& operator=(const SealBuffer&) = delete;

  uint8_t* data() { return buf_.data.get(); }
  size_t payload_room() const { return buf_.size - kCipherOverhead; }

 private:
  struct Raw {
    std::unique_ptr<uint8_t[]> data;
    size_t size = 0;
  };
  static Raw& ThreadBuffer() {
    thread_local Raw b;
    return b;
  }
  Raw& buf_;
};

// An uncompressed blob larger than this is sealed a piece at a time straight
// into the pack file, through one buffer of this size per thread, instead of
// whole into a SealBuffer as large as the blob (up to the chunker's 8 MiB).
constexpr size_t kSealPiece = 256u << 10;

}  // namespace

Status PackWriter::Add(BlobType type, const Id& id, ByteView payload, uint32_t uncompressed_length) {
  if (payload.size() > kSealPiece) return AddInPieces(type, id, payload, uncompressed_length);
  SealBuffer sealed(payload.size());
  SealInto(key_, payload, sealed.data());
  return AddSealed(type, id, ByteView(sealed.data(), payload.size() + kCipherOverhead), uncompressed_length);
}

Status PackWriter::AddPlaintext(BlobType type, const Id& id, ByteView plaintext, int zstd_level) {
  if (zstd_level != 0 && !plaintext.empty() && !ZstdLikelyIncompressible(plaintext, zstd_level)) {
    SealBuffer sealed(ZstdCompressBound(plaintext.size()));
    uint8_t* frame = sealed.data() + kNonceSize;
    size_t n = ZstdCompressTo(plaintext, frame, sealed.payload_room(), zstd_level);
    if (n > 0 && n < plaintext.size()) {
      SealInto(key_, ByteView(frame, n), sealed.data());
      return AddSealed(type, id, ByteView(sealed.data(), n + kCipherOverhead),
                       static_cast<uint32_t>(plaintext.size()));
    }
  }
  return Add(type, id, plaintext, 0);
}

Status PackWriter::AddInPieces(BlobType type, const Id& id, ByteView payload, uint32_t uncompressed_length) {
  const size_t offset = size_;
  StreamSealer sealer(key_);
  STASH_RETURN_IF_ERROR(Append(sealer.nonce()));
  thread_local std::unique_ptr<uint8_t[]> piece(new uint8_t[kSealPiece]);
  for (size_t done = 0; done < payload.size();) {
    const size_t n = std::min(kSealPiece, payload.size() - done);
    sealer.Update(payload.subspan(done, n), piece.get());
    STASH_RETURN_IF_ERROR(Append(ByteView(piece.get(), n)));
    done += n;
  }
  STASH_RETURN_IF_ERROR(Append(sealer.Finish()));
  Record(type, id, offset, size_ - offset, uncompressed_length);
  return Status::Ok();
}

Status PackWriter::AddSealed(BlobType type, const Id& id, ByteView sealed, uint32_t uncompressed_length) {
  const size_t offset = size_;
  STASH_RETURN_IF_ERROR(Append(sealed));
  Record(type, id, offset, sealed.size(), uncompressed_length);
  return Status::Ok();
}

void PackWriter::Record(BlobType type, const Id& id, size_t offset, size_t length, uint32_t uncompressed_length) {
  PackedBlob blob;
  blob.type = type;
  blob.id = id;
  blob.offset = static_cast<uint32_t>(offset);
  blob.length = static_cast<uint32_t>(length);
  blob.uncompressed_length = uncompressed_length;
  blobs_.push_back(blob);
}

Result<PackFile> PackWriter::Finish() {
  if (blobs_.empty()) return Invalid("an empty pack cannot be finished");
  Bytes header;
  header.reserve(blobs_.size() * kPackCompressedEntrySize);
  for (const auto& b : blobs_) {
    uint8_t type = static_cast<uint8_t>(b.type) + (b.compressed() ? 2 : 0);
    header.push_back(type);
    PutU32(header, b.length);
    if (b.compressed()) PutU32(header, b.uncompressed_length);
    header.insert(header.end(), b.id.bytes.begin(), b.id.bytes.end());
  }
  Bytes tail;
  SealAppend(key_, header, tail);
  PutU32(tail, static_cast<uint32_t>(tail.size()));
  STASH_RETURN_IF_ERROR(Append(tail));
  STASH_RETURN_IF_ERROR(Flush());
  PackFile file;
  file.id = hasher_->Finish();
  file.blobs = std::move(blobs_);
  file.size_ = size_;
  file.fd_ = std::exchange(fd_, -1);
  Reset();
  return file;
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
