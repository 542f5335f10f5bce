// zstd compression as repository format 2 uses it.
#pragma once

#include "base/bytes.h"
#include "base/result.h"

#include <string>

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

// Compresses into `scratch` (grown as needed, so one buffer serves many
// calls without reallocating) and returns the frame's size.
size_t ZstdCompressInto(ByteView data, Bytes& scratch, int level = 3);

// Decompresses one or more concatenated frames. `expected_size` (if
// non-zero) is the size the index promised; a different size is kCorrupt.
Result<Bytes> ZstdDecompress(ByteView data, size_t expected_size = 0);

}  // namespace stash
