// zstd compression as repository format 2 uses it.
#pragma once

#include "base/bytes.h"
#include "base/result.h"

#include <string>

struct ZSTD_CCtx_s;  // zstd's contexts (zstd.h stays out of headers)
struct ZSTD_DCtx_s;

namespace stash {

// restic's --compression: auto, off or max. Format 1 never compresses.
enum class CompressionMode { kAuto, kOff, kMax };
Result<CompressionMode> ParseCompressionMode(const std::string& text);

// The zstd level for blobs, 0 for none. auto is level 2: on restic's kind of
// data it compresses within 2% of level 3 (restic's choice) in about 70% of
// the time, and compression is the largest cost of a backup. max is 11,
// near restic's "best compression".
int BlobCompressionLevel(CompressionMode mode);

// One zstd frame with the content size in it (restic's decoder accepts any
// standard frame; we write no checksum since every blob is MAC'd anyway).
Bytes ZstdCompress(ByteView data, int level = 3);

// Compresses into `out`, which has room for `capacity` bytes (at least
// ZstdCompressBound(data.size()) cannot fail); the frame's size, 0 on failure.
size_t ZstdCompressTo(ByteView data, uint8_t* out, size_t capacity, int level = 3);

// The most bytes a frame of `size` input bytes can take.
size_t ZstdCompressBound(size_t size);

// Whether compressing `data` at `level` would likely save nothing worth
// having (under 1/32 of it): true when `data` is at least
// kIncompressibleProbeMin bytes and none of kIncompressibleProbes samples
// of kIncompressibleProbeSize bytes, spread evenly over it, compresses by
// that much. Already compressed or encrypted files (media, archives) are
// most of a large backup's bytes in practice; zstd goes over such a blob
// at a few GB/s only to find nothing, and writes it out raw, a copy the
// size of the blob. A blob whose samples all miss the compressible parts
// of it is stored raw and costs a little room, never data.
inline constexpr size_t kIncompressibleProbeMin = 128u << 10;
inline constexpr size_t kIncompressibleProbes = 4;
inline constexpr size_t kIncompressibleProbeSize = 4u << 10;
bool ZstdLikelyIncompressible(ByteView data, int level);

// Compresses input that arrives in pieces into one zstd frame, appended to
// `out`, so large text (an index file) never has to exist whole beside its
// frame. `total` is the pieces' summed size, known beforehand: the frame
// records it, as ZstdCompress's do. Uses a context of its own, freed with
// the writer (a thread's cached context would keep a large window alive).
// `out` gets capacity for the frame's bound and 128 KiB more up front.
//
// The frame's window is 2^kFrameWriterWindowLog bytes whatever `total` is.
// zstd would otherwise size it to the input (8 MiB for an 8 MB index file),
// and the writer and every later reader of the frame hold a window that
// large; on index JSON, whose repeats are a few hundred bytes apart, the
// wider window saves nothing (on 11 MB of index JSON its frame was 5%
// larger than with this one).
inline constexpr int kFrameWriterWindowLog = 17;
class ZstdFrameWriter {
 public:
  ZstdFrameWriter(Bytes& out, uint64_t total, int level = 3);
  ~ZstdFrameWriter();
  ZstdFrameWriter(const ZstdFrameWriter&) = delete;
  ZstdFrameWriter& operator=(const ZstdFrameWriter&) = delete;

  void Write(ByteView piece);
  // Ends the frame. kIO when zstd failed, or when the pieces did not add
  // up to `total`.
  Status Finish();

 private:
  // Runs zstd over `in` (empty with kEnd to finish), growing `out_`.
  size_t Step(ByteView in, int directive);

  Bytes& out_;
  ZSTD_CCtx_s* ctx_;
  bool failed_ = false;
};

// Decompresses one or more concatenated frames a piece at a time, so text
// can be parsed as it comes out and is never held whole (an index file's
// JSON is several times its frame). Holds the frame's window (at most a few
// MiB) and one piece. Uses a context of its own, freed with the reader.
class ZstdStreamReader {
 public:
  explicit ZstdStreamReader(ByteView data);
  ~ZstdStreamReader();
  ZstdStreamReader(const ZstdStreamReader&) = delete;
  ZstdStreamReader& operator=(const ZstdStreamReader&) = delete;

  // The next piece, valid until the next call; empty once all is out.
  // kCorrupt when the data is not zstd or a frame is cut short.
  Result<ByteView> Next();

 private:
  ZSTD_DCtx_s* ctx_;
  ByteView data_;
  size_t pos_ = 0;
  size_t last_ = 1;  // zstd's hint: 0 once a frame is complete and flushed
  bool done_ = false;
  Bytes piece_;
};

// Decompresses one or more concatenated frames. `expected_size` (if
// non-zero) is the size the index promised; a different size is kCorrupt.
Result<Bytes> ZstdDecompress(ByteView data, size_t expected_size = 0);

}  // namespace stash
