// ParseAzureListPage on Azure List Blobs answers (<EnumerationResults>).
#include "fuzz_util.h"
#include "storage/backends/azure_backend.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)stash::ParseAzureListPage(FuzzText(data, size));
  return 0;
}
