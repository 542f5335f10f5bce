// The reviewers of delegated_auth.h that ask a Kubernetes API server:
// TokenReview (authentication.k8s.io/v1) and SubjectAccessReview
// (authorization.k8s.io/v1), through the Kubernetes client (kube/).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "apiserver/auth/delegated_auth.h"
#include "kube/client.h"
#include "base/result.h"

namespace stash::apiserver {

class WebhookTokenReviewer : public TokenReviewer {
 public:
  explicit WebhookTokenReviewer(kube::Client* client) : client_(client) {}
  Result<TokenReviewResult> Review(const std::string& token) override;

 private:
  kube::Client* client_;
};

class WebhookSubjectAccessReviewer : public SubjectAccessReviewer {
 public:
  explicit WebhookSubjectAccessReviewer(kube::Client* client) : client_(client) {}
  Result<Decision> Review(const Attributes& attributes) override;

 private:
  kube::Client* client_;
};

// What kube-apiserver publishes in kube-system/extension-apiserver-authentication
// for extension apiservers: the client CA and the front-proxy settings.
struct AuthenticationConfig {
  std::string client_ca_pem;         // empty when the cluster has none
  std::string requestheader_ca_pem;  // empty when there is no front proxy
  RequestHeaderConfig requestheader;
};
Result<AuthenticationConfig> FetchAuthenticationConfig(kube::Client& client);
// The ConfigMap's JSON, apart for tests.
Result<AuthenticationConfig> ParseAuthenticationConfigMap(const std::string& json);

// The request bodies and answer parsers, apart for tests.
std::string TokenReviewJson(const std::string& token);
Result<TokenReviewResult> ParseTokenReview(const std::string& json);
std::string SubjectAccessReviewJson(const Attributes& attributes);
Result<Decision> ParseSubjectAccessReview(const std::string& json);

}  // namespace stash::apiserver
