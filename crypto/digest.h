// The digests object stores ask of an upload: MD5 (Swift's ETag, GCS's
// md5Hash) and SHA-1 (B2's X-Bz-Content-Sha1), of memory or of a file.
#pragma once

#include <cstdint>

#include "base/bytes.h"
#include "base/result.h"

namespace stash {

enum class DigestKind { kMd5, kSha1 };

// The raw digest of `data`.
Bytes Digest(DigestKind kind, ByteView data);

// The raw digest of the first `size` bytes of the open file `fd`, read a
// piece at a time (pread: the descriptor's offset is left alone). kIO if
// the file cannot be read or holds fewer bytes.
Result<Bytes> FileDigest(DigestKind kind, int fd, uint64_t size);

}  // namespace stash
