// zstd compression as repository format 2 uses it.
#pragma once

#include "base/bytes.h"
#include "base/result.h"

namespace stash {

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
