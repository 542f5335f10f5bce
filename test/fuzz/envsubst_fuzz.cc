// EnvSubst on the text of a Task or Function (user objects). Invariants:
// text without "${" comes back unchanged; with every key given, the
// defaults never make an error.
#include "fuzz_util.h"
#include "stashapi/envsubst.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = FuzzText(data, size);
  static const stash::SubstInputs inputs = {
      {"A", "value.with.dots"}, {"EMPTY", ""}, {"NAMESPACE", "demo"}, {"outputDir", "/tmp/output"},
      {"N", "12345"}, {"Q", "a\"b}"}};
  auto out = stash::EnvSubst(text, inputs);
  if (text.find("${") == std::string_view::npos) {
    FUZZ_CHECK(out.ok());
    FUZZ_CHECK(*out == text);
  }
  if (out.ok()) (void)stash::EnvSubst(*out, inputs);  // values holding ${ or } are text again
  return 0;
}
