// DecodeKeyFile on keys/<id> bytes (no scrypt: OpenKeyFile would make each
// run take as long as the parameters say); the master key JSON too.
#include "fuzz_util.h"
#include "storage/key_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto key = stash::DecodeKeyFile({data, size});
  if (key.ok()) FUZZ_CHECK(stash::DecodeKeyFile(stash::AsBytes(stash::EncodeKeyFile(*key))).ok());
  (void)stash::DecodeMasterKey({data, size});
  return 0;
}
