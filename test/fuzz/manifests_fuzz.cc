// ParseManifests on YAML/JSON a user applies; what parses is resolved too.
#include "apiserver/snapshots/manifests.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto m = stash::apiserver::ParseManifests(FuzzText(data, size), "fuzz.yaml");
  if (m.ok()) (void)stash::apiserver::ResolveRepositories(*m);
  return 0;
}
