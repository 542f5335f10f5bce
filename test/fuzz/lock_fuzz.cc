// DecodeLockInfo on locks/<id> bytes (after decryption); the encoding of a
// decoded lock must decode again to the same holder.
#include "fuzz_util.h"
#include "storage/lock.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto lock = stash::DecodeLockInfo({data, size});
  if (!lock.ok()) return 0;
  auto round = stash::DecodeLockInfo(stash::AsBytes(stash::EncodeLockInfo(*lock)));
  FUZZ_CHECK(round.ok());
  FUZZ_CHECK(round->pid == lock->pid && round->hostname == lock->hostname);
  return 0;
}
