// What the Kubernetes API server sends the client (kube/): watch event
// lines, objects read through their metadata accessors and JSON pointers,
// Status messages turned into errors, and exec plugins' ExecCredentials.
#include "fuzz_util.h"
#include "kube/client.h"
#include "kube/credentials.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace stash::kube;
  std::string_view text = FuzzText(data, size);
  if (auto event = ParseWatchEvent(text, "fuzz"); event.ok()) {
    const Json& o = *event->object;
    (void)KeyOf(o);
    (void)Labels(o);
    (void)Annotations(o);
    (void)ResourceVersion(o);
    (void)BeingDeleted(o);
    (void)StringAt(o, "/spec/backend/local/mountPath");
    (void)ToJson(o);
  }
  (void)ParseExecCredential(text, "client.authentication.k8s.io/v1");
  (void)Reason(stash::Error(stash::ErrorKind::kIO, std::string(text)));
  (void)SplitKey(std::string(text));
  return 0;
}
