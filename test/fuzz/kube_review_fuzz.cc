// The answers of the cluster's API server: TokenReview, SubjectAccessReview
// and the extension-apiserver-authentication ConfigMap (one input feeds all
// three; they are small JSON documents of the same kind).
#include "apiserver/auth/kube_review.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string json(FuzzText(data, size));
  (void)stash::apiserver::ParseTokenReview(json);
  (void)stash::apiserver::ParseSubjectAccessReview(json);
  (void)stash::apiserver::ParseAuthenticationConfigMap(json);
  return 0;
}
