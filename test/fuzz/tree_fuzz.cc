// DecodeTree on tree blob bytes; a decoded tree must survive EncodeTree.
#include "fuzz_util.h"
#include "storage/tree.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto tree = stash::DecodeTree({data, size});
  if (!tree.ok()) return 0;
  stash::Bytes again = stash::EncodeTree(*tree);
  auto round = stash::DecodeTree(again);
  FUZZ_CHECK(round.ok());
  FUZZ_CHECK(round->nodes.size() == tree->nodes.size());
  return 0;
}
