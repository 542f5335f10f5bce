// The reviewers of delegated_auth.h that ask a Kubernetes API server:
// TokenReview (authentication.k8s.io/v1) and SubjectAccessReview
// (authorization.k8s.io/v1), over a small client built from a kubeconfig or
// the in-cluster service account. The full Kubernetes client is a later
// part; this one only POSTs JSON.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "apiserver/delegated_auth.h"
#include "apiserver/kubeconfig.h"
#include "base/result.h"

namespace stash::http {
class HttpClient;
}

namespace stash::apiserver {

class KubeClient {
 public:
  // `name` prefixes messages ("authentication-kubeconfig").
  static Result<std::unique_ptr<KubeClient>> Create(ClusterAccess access, std::string name,
                                                    std::chrono::milliseconds timeout);
  ~KubeClient();

  // POSTs `json` to `path` (under the server URL's path) and returns the body
  // of a 2xx answer; other answers are errors naming status and message.
  Result<std::string> PostJson(const std::string& path, const std::string& json);
  // GETs `path`; the body of a 2xx answer.
  Result<std::string> GetJson(const std::string& path);

 private:
  KubeClient(ClusterAccess access, std::string base_path, std::unique_ptr<http::HttpClient> client);
  // The bearer token, re-read from token_file at most once a minute: the
  // kubelet rotates service account tokens.
  Result<std::string> Token();
  Result<std::string> Send(const std::string& method, const std::string& path, const std::string& json);

  ClusterAccess access_;
  std::string base_path_;
  std::unique_ptr<http::HttpClient> client_;
  std::mutex mu_;
  std::string token_;
  std::chrono::steady_clock::time_point token_read_{};
};

class WebhookTokenReviewer : public TokenReviewer {
 public:
  explicit WebhookTokenReviewer(KubeClient* client) : client_(client) {}
  Result<TokenReviewResult> Review(const std::string& token) override;

 private:
  KubeClient* client_;
};

class WebhookSubjectAccessReviewer : public SubjectAccessReviewer {
 public:
  explicit WebhookSubjectAccessReviewer(KubeClient* client) : client_(client) {}
  Result<Decision> Review(const Attributes& attributes) override;

 private:
  KubeClient* client_;
};

// What kube-apiserver publishes in kube-system/extension-apiserver-authentication
// for extension apiservers: the client CA and the front-proxy settings.
struct AuthenticationConfig {
  std::string client_ca_pem;         // empty when the cluster has none
  std::string requestheader_ca_pem;  // empty when there is no front proxy
  RequestHeaderConfig requestheader;
};
Result<AuthenticationConfig> FetchAuthenticationConfig(KubeClient& client);
// The ConfigMap's JSON, apart for tests.
Result<AuthenticationConfig> ParseAuthenticationConfigMap(const std::string& json);

// The request bodies and answer parsers, apart for tests.
std::string TokenReviewJson(const std::string& token);
Result<TokenReviewResult> ParseTokenReview(const std::string& json);
std::string SubjectAccessReviewJson(const Attributes& attributes);
Result<Decision> ParseSubjectAccessReview(const std::string& json);

}  // namespace stash::apiserver
