// DecodeIndexFile as format 1 and format 2 repositories read it; a decoded
// index must encode and decode again to the same packs and blobs, and the
// same bytes fed in pieces (as they come out of zstd) must decode to the
// same index or the same error.
#include <algorithm>
#include <string>

#include "fuzz_util.h"
#include "storage/index.h"

namespace {

size_t Blobs(const stash::IndexFile& f) {
  size_t n = 0;
  for (const auto& p : f.packs) n += p.blobs.size();
  return n;
}

stash::Result<stash::IndexFile> InPieces(const uint8_t* data, size_t size, int version) {
  // The piece size comes from the input, so the fuzzer explores it too.
  size_t piece = size ? 1 + data[0] % 13 : 1;
  size_t at = 0;
  return stash::DecodeIndexFile(
      [&]() -> stash::Result<stash::ByteView> {
        size_t n = std::min(piece, size - at);
        stash::ByteView v(data + at, n);
        at += n;
        return v;
      },
      version);
}

void RoundTrip(const uint8_t* data, size_t size, int version) {
  auto index = stash::DecodeIndexFile({data, size}, version);
  auto pieces = InPieces(data, size, version);
  FUZZ_CHECK(index.ok() == pieces.ok());
  if (!index.ok()) {
    FUZZ_CHECK(index.error().message() == pieces.error().message());
    return;
  }
  FUZZ_CHECK(stash::EncodeIndexFile(*index) == stash::EncodeIndexFile(*pieces));
  auto round = stash::DecodeIndexFile(stash::AsBytes(stash::EncodeIndexFile(*index)), version);
  FUZZ_CHECK(round.ok());
  FUZZ_CHECK(round->packs.size() == index->packs.size() && Blobs(*round) == Blobs(*index));
  FUZZ_CHECK(round->supersedes.size() == index->supersedes.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  RoundTrip(data, size, 1);
  RoundTrip(data, size, 2);
  return 0;
}
