// ZstdDecompress on blob payloads.
//   input: uint32le expected size (0: unknown) || zstd frames
#include "fuzz_util.h"
#include "storage/compression.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  size_t expected = FuzzU32(data);
  auto out = stash::ZstdDecompress({data + 4, size - 4}, expected);
  if (out.ok() && expected != 0) FUZZ_CHECK(out->size() == expected);
  return 0;
}
