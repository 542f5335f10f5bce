// http::ParseListPage on S3 ListObjects (V2 and V1) answers (and the XML helpers it
// is built on, which also read S3 <Error> bodies).
#include "fuzz_util.h"
#include "storage/backends/xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view xml = FuzzText(data, size);
  auto page = stash::http::ParseListPage(xml);
  if (page.ok() && page->truncated) {
    FUZZ_CHECK(!page->next_token.empty() || !page->next_marker.empty());
  }
  (void)stash::http::XmlText(xml, "Message");
  return 0;
}
