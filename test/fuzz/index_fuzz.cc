// DecodeIndexFile as format 1 and format 2 repositories read it; a decoded
// index must encode and decode again to the same packs and blobs.
#include "fuzz_util.h"
#include "storage/index.h"

namespace {

size_t Blobs(const stash::IndexFile& f) {
  size_t n = 0;
  for (const auto& p : f.packs) n += p.blobs.size();
  return n;
}

void RoundTrip(const uint8_t* data, size_t size, int version) {
  auto index = stash::DecodeIndexFile({data, size}, version);
  if (!index.ok()) return;
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
