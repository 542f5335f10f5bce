// The Swift backend's JSON: container listings and Keystone v2/v3 token
// answers (one input feeds all three; they share the JSON layer).
#include "fuzz_util.h"
#include "storage/backends/swift_backend.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view json = FuzzText(data, size);
  (void)stash::ParseSwiftListing(json);
  (void)stash::ParseKeystoneV2(json, "");
  (void)stash::ParseKeystoneV2(json, "RegionOne");
  (void)stash::ParseKeystoneV3(json, "token", "");
  (void)stash::ParseKeystoneV3(json, "token", "RegionOne");
  return 0;
}
