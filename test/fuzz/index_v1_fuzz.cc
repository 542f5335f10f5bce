// DecodeIndexFile as a format 1 repository reads it; a decoded index must
// encode and decode again to the same packs and blobs.
#include "fuzz_util.h"
#include "storage/index.h"

namespace {
size_t Blobs(const stash::IndexFile& f) {
  size_t n = 0;
  for (const auto& p : f.packs) n += p.blobs.size();
  return n;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto index = stash::DecodeIndexFile({data, size}, 1);
  if (!index.ok()) return 0;
  auto round = stash::DecodeIndexFile(stash::AsBytes(stash::EncodeIndexFile(*index)), 1);
  FUZZ_CHECK(round.ok());
  FUZZ_CHECK(round->packs.size() == index->packs.size() && Blobs(*round) == Blobs(*index));
  FUZZ_CHECK(round->supersedes.size() == index->supersedes.size());
  return 0;
}
