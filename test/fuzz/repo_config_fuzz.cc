// DecodeRepoConfig on the config file's bytes; round trip must hold.
#include "fuzz_util.h"
#include "storage/repo_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto config = stash::DecodeRepoConfig({data, size});
  if (!config.ok()) return 0;
  auto round = stash::DecodeRepoConfig(stash::AsBytes(stash::EncodeRepoConfig(*config)));
  FUZZ_CHECK(round.ok());
  FUZZ_CHECK(round->version == config->version && round->chunker_polynomial == config->chunker_polynomial);
  return 0;
}
