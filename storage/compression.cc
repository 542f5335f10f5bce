#include "storage/compression.h"

#include <zstd.h>

#include <memory>

namespace stash {
namespace {

// Files (index, snapshots) carry no size promise; cap what a malicious frame
// can make us allocate.
constexpr size_t kMaxUnknownSize = size_t{1} << 32;

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

size_t ZstdCompressInto(ByteView data, Bytes& scratch, int level) {
  size_t bound = ZSTD_compressBound(data.size());
  if (scratch.size() < bound) scratch.resize(bound);
  size_t n = ZSTD_compressCCtx(ThreadCompressor(), scratch.data(), scratch.size(), data.data(),
                               data.size(), level);
  return ZSTD_isError(n) ? 0 : n;
}

Result<Bytes> ZstdDecompress(ByteView data, size_t expected_size) {
  ZSTD_DCtx* ctx = ThreadDecompressor();
  if (!ctx) return IOError("zstd: out of memory");
  Bytes out;
  size_t limit = expected_size ? expected_size : kMaxUnknownSize;
  unsigned long long content = ZSTD_getFrameContentSize(data.data(), data.size());
  if (content != ZSTD_CONTENTSIZE_ERROR && content != ZSTD_CONTENTSIZE_UNKNOWN &&
      content <= limit) {
    out.reserve(expected_size ? expected_size : content);
  }
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  Bytes chunk(ZSTD_DStreamOutSize());
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
