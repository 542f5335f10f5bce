#include "storage/compression.h"

#include <zstd.h>

#include <algorithm>
#include <memory>

namespace stash {
namespace {

// Files (index, snapshots) carry no size promise; cap what a malicious frame
// can make us allocate.
constexpr size_t kMaxUnknownSize = size_t{1} << 32;
constexpr size_t kMaxTrustedReserve = size_t{16} << 20;

// Contexts are costly to create (hundreds of KiB of tables); each thread
// keeps one of each for its lifetime.
struct ContextDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

ZSTD_CCtx* ThreadCompressor() {
  thread_local std::unique_ptr<ZSTD_CCtx, ContextDeleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}

ZSTD_DCtx* ThreadDecompressor() {
  thread_local std::unique_ptr<ZSTD_DCtx, ContextDeleter> ctx(ZSTD_createDCtx());
  ZSTD_DCtx_reset(ctx.get(), ZSTD_reset_session_only);
  return ctx.get();
}

}  // namespace

Result<CompressionMode> ParseCompressionMode(const std::string& text) {
  if (text.empty() || text == "auto") return CompressionMode::kAuto;
  if (text == "off") return CompressionMode::kOff;
  if (text == "max") return CompressionMode::kMax;
  return Invalid("invalid compression mode \"" + text + "\": must be auto, off or max");
}

int BlobCompressionLevel(CompressionMode mode) {
  switch (mode) {
    case CompressionMode::kOff: return 0;
    case CompressionMode::kMax: return 11;
    case CompressionMode::kAuto: break;
  }
  return 2;
}

Bytes ZstdCompress(ByteView data, int level) {
  Bytes out(ZSTD_compressBound(data.size()));
  size_t n = ZSTD_compressCCtx(ThreadCompressor(), out.data(), out.size(), data.data(), data.size(), level);
  // Compression into a buffer of compressBound size cannot fail.
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
}

size_t ZstdCompressTo(ByteView data, uint8_t* out, size_t capacity, int level) {
  size_t n = ZSTD_compressCCtx(ThreadCompressor(), out, capacity, data.data(), data.size(), level);
  return ZSTD_isError(n) ? 0 : n;
}

size_t ZstdCompressBound(size_t size) { return ZSTD_compressBound(size); }

bool ZstdLikelyIncompressible(ByteView data, int level) {
  if (data.size() < kIncompressibleProbeMin) return false;
  uint8_t out[ZSTD_COMPRESSBOUND(kIncompressibleProbeSize)];
  const size_t last = data.size() - kIncompressibleProbeSize;
  for (size_t i = 0; i < kIncompressibleProbes; i++) {
    ByteView probe = data.subspan(last * i / (kIncompressibleProbes - 1), kIncompressibleProbeSize);
    size_t n = ZSTD_compressCCtx(ThreadCompressor(), out, sizeof out, probe.data(), probe.size(), level);
    if (!ZSTD_isError(n) && n < probe.size() - probe.size() / 32) return false;
  }
  return true;
}

ZstdFrameWriter::ZstdFrameWriter(Bytes& out, uint64_t total, int level)
    : out_(out), ctx_(ZSTD_createCCtx()) {
  failed_ = !ctx_ || ZSTD_isError(ZSTD_CCtx_setParameter(ctx_, ZSTD_c_compressionLevel, level)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(ctx_, ZSTD_c_windowLog, kFrameWriterWindowLog)) ||
            ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(ctx_, total));
  // The whole frame's room at once: growing a vector step by step would
  // hold two copies of it at each step. Pages never written cost nothing.
  out_.reserve(out_.size() + ZSTD_compressBound(total) + ZSTD_CStreamOutSize());
}

ZstdFrameWriter::~ZstdFrameWriter() { ZSTD_freeCCtx(ctx_); }

size_t ZstdFrameWriter::Step(ByteView data, int directive) {
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  while (true) {
    // Room for what this step may emit (within what the constructor
    // reserved: the frame so far plus one piece's bound).
    size_t used = out_.size();
    out_.resize(used + std::max<size_t>(ZSTD_compressBound(in.size - in.pos), 1 << 12));
    ZSTD_outBuffer ob{out_.data() + used, out_.size() - used, 0};
    size_t left = ZSTD_compressStream2(ctx_, &ob, &in, static_cast<ZSTD_EndDirective>(directive));
    out_.resize(used + ob.pos);
    if (ZSTD_isError(left)) return left;
    bool done = directive == ZSTD_e_end ? left == 0 : in.pos == in.size;
    if (done) return 0;
  }
}

void ZstdFrameWriter::Write(ByteView piece) {
  if (failed_ || piece.empty()) return;
  failed_ = ZSTD_isError(Step(piece, ZSTD_e_continue));
}

Status ZstdFrameWriter::Finish() {
  if (!failed_) failed_ = ZSTD_isError(Step({}, ZSTD_e_end));
  if (failed_) return IOError("zstd: cannot compress (out of memory, or input of an unexpected size)");
  return Status::Ok();
}

ZstdStreamReader::ZstdStreamReader(ByteView data) : ctx_(ZSTD_createDCtx()), data_(data) {}

ZstdStreamReader::~ZstdStreamReader() { ZSTD_freeDCtx(ctx_); }

Result<ByteView> ZstdStreamReader::Next() {
  if (!ctx_) return IOError("zstd: out of memory");
  if (piece_.empty()) piece_.resize(ZSTD_DStreamOutSize());
  while (!done_) {
    // Every frame complete and flushed: asking again would start a new one.
    if (pos_ == data_.size() && last_ == 0) break;
    ZSTD_inBuffer in{data_.data(), data_.size(), pos_};
    ZSTD_outBuffer out{piece_.data(), piece_.size(), 0};
    last_ = ZSTD_decompressStream(ctx_, &out, &in);
    pos_ = in.pos;
    if (ZSTD_isError(last_)) {
      done_ = true;
      return Corrupt(std::string("zstd: ") + ZSTD_getErrorName(last_));
    }
    if (out.pos > 0) return ByteView(piece_.data(), out.pos);
    if (pos_ == data_.size()) {
      // No input left and nothing more came out.
      done_ = true;
      if (last_ != 0) return Corrupt("zstd: truncated frame");
    }
  }
  return ByteView();
}

Result<Bytes> ZstdDecompress(ByteView data, size_t expected_size) {
  ZSTD_DCtx* ctx = ThreadDecompressor();
  if (!ctx) return IOError("zstd: out of memory");
  Bytes out;
  size_t limit = expected_size ? expected_size : kMaxUnknownSize;
  unsigned long long content = ZSTD_getFrameContentSize(data.data(), data.size());
  if (content != ZSTD_CONTENTSIZE_ERROR && content != ZSTD_CONTENTSIZE_UNKNOWN &&
      content <= limit) {
    // Believed up to kMaxTrustedReserve (past that the vector grows as the
    // data really comes), so a damaged header or index entry cannot make
    // us reserve gigabytes.
    out.reserve(std::min<size_t>(expected_size ? expected_size : content, kMaxTrustedReserve));
  }
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  // One per thread, like the context: zero-filling 128 KiB for every call
  // cost a check of small trees a tenth of its CPU.
  thread_local Bytes chunk(ZSTD_DStreamOutSize());
  size_t last = 0;
  while (true) {
    ZSTD_outBuffer ob{chunk.data(), chunk.size(), 0};
    last = ZSTD_decompressStream(ctx, &ob, &in);
    if (ZSTD_isError(last)) {
      return Corrupt(std::string("zstd: ") + ZSTD_getErrorName(last));
    }
    if (out.size() + ob.pos > limit) return Corrupt("zstd: decompressed data larger than expected");
    out.insert(out.end(), chunk.data(), chunk.data() + ob.pos);
    if (in.pos == in.size) {
      if (last == 0) break;       // every frame decoded and flushed
      if (ob.pos == 0) break;     // no input left and no progress: truncated
    }
  }
  if (last != 0) return Corrupt("zstd: truncated frame");
  if (expected_size && out.size() != expected_size) {
    return Corrupt("zstd: decompressed " + std::to_string(out.size()) + " bytes, expected " +
                   std::to_string(expected_size));
  }
  return out;
}

}  // namespace stash
