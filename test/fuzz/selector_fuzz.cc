// LabelSelector::Parse and FieldSelector::Parse on ?labelSelector= and
// ?fieldSelector= values; what parses is also matched, as a list would.
#include "apiserver/machinery/selector.h"
#include "fuzz_util.h"

using stash::apiserver::FieldSelector;
using stash::apiserver::LabelSelector;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = FuzzText(data, size);
  static const stash::apiserver::Labels labels = {{"a", "b"}, {"c", "d"}, {"v", "7"}};
  if (auto s = LabelSelector::Parse(text); s.ok()) {
    (void)s->Matches(labels);
    (void)s->AllowedValues("a");
  }
  static const std::vector<std::string> known = {"metadata.name", "metadata.namespace"};
  if (auto f = FieldSelector::Parse(text, known); f.ok()) {
    (void)f->Matches([](const std::string& field) { return field + "-value"; });
    (void)f->RequiredValue("metadata.name");
  }
  return 0;
}
