// ZstdDecompress on blob payloads, and ZstdStreamReader (index files) on
// the same bytes: when the whole-buffer decoder succeeds without an
// expected size (input starting with four zero bytes), the stream reader must hand out exactly the same bytes.
//   input: uint32le expected size (0: unknown) || zstd frames
#include <string>

#include "fuzz_util.h"
#include "storage/compression.h"

namespace {

stash::Result<std::string> Streamed(stash::ByteView data) {
  stash::ZstdStreamReader reader(data);
  std::string out;
  for (;;) {
    auto piece = reader.Next();
    if (!piece.ok()) return piece.error();
    if (piece->empty()) return out;
    out.append(reinterpret_cast<const char*>(piece->data()), piece->size());
    if (out.size() > (64u << 20)) return std::string("(large)");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  size_t expected = FuzzU32(data);
  stash::ByteView frames{data + 4, size - 4};
  auto out = stash::ZstdDecompress(frames, expected);
  if (out.ok() && expected != 0) FUZZ_CHECK(out->size() == expected);
  auto streamed = Streamed(frames);
  if (expected == 0 && out.ok() && out->size() <= (64u << 20)) {
    FUZZ_CHECK(streamed.ok());
    FUZZ_CHECK(std::string(out->begin(), out->end()) == *streamed);
  }
  return 0;
}
