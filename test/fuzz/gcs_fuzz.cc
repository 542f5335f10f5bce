// The GCS backend's exposed JSON parsers: service-account keys and OAuth2
// token answers. (Its object listing parser is private to gcs_backend.cc.)
#include "fuzz_util.h"
#include "storage/backends/google_auth.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view json = FuzzText(data, size);
  (void)stash::http::ParseServiceAccount(json, "fuzz");
  auto token = stash::http::ParseTokenResponse(json, 1700000000);
  (void)token;
  return 0;
}
