// DecodeSnapshot on snapshot file bytes; its encoding must decode again.
#include "fuzz_util.h"
#include "storage/snapshot.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto snap = stash::DecodeSnapshot({data, size});
  if (!snap.ok()) return 0;
  auto round = stash::DecodeSnapshot(stash::AsBytes(stash::EncodeSnapshot(*snap)));
  FUZZ_CHECK(round.ok());
  FUZZ_CHECK(round->paths == snap->paths && round->tags == snap->tags);
  return 0;
}
