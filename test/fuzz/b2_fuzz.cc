// The B2 backend's JSON: b2_authorize_account answers and error bodies.
#include "fuzz_util.h"
#include "storage/backends/b2_backend.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view json = FuzzText(data, size);
  (void)stash::ParseB2Authorization(json);
  (void)stash::B2ErrorDetail(json);
  return 0;
}
