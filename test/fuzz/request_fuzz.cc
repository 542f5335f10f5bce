// What the apiserver derives from a request's bytes before any handler:
//   input: "METHOD TARGET\nACCEPT"
// TARGET is split and decoded (ParseTarget), then read as Kubernetes reads
// it (ParseRequestInfo, ParseListOptions); ACCEPT goes to ParseAccept.
#include "apiserver/machinery/server_types.h"
#include "apiserver/machinery/list_options.h"
#include "apiserver/machinery/negotiate.h"
#include "apiserver/machinery/request_info.h"
#include "fuzz_util.h"

namespace api = stash::apiserver;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = FuzzText(data, size);
  std::string_view line = text.substr(0, text.find('\n'));
  std::string_view accept = line.size() < text.size() ? text.substr(line.size() + 1) : "";
  size_t space = line.find(' ');
  std::string method(line.substr(0, space));
  std::string_view target = space == std::string_view::npos ? "" : line.substr(space + 1);
  if (auto parsed = api::ParseTarget(target)) {
    (void)api::ParseRequestInfo(method, parsed->first, parsed->second);
    (void)api::ParseListOptions(parsed->second);
  }
  (void)api::ParseAccept(accept);
  return 0;
}
