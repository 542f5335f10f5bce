// Delegated authentication and authorization, as Kubernetes extension
// apiservers do them (docs/kubernetes.md, "Being an aggregated apiserver"):
//
//  - front-proxy headers (X-Remote-User, X-Remote-Group, X-Remote-Extra-*)
//    trusted only from a client certificate that chains to the
//    requestheader CA and has an allowed common name;
//  - bearer tokens checked by a TokenReviewer (TokenReview on the cluster's
//    API server), results cached for a TTL;
//  - authorization by a SubjectAccessReviewer (SubjectAccessReview),
//    decisions cached for their TTLs, with always-allowed paths and groups.
//
// Cached answers come from the Try forms without waiting; concurrent
// reviews of one token, or of one set of attributes, are made once.
//
// The reviewers are interfaces so tests plug in fakes; kube_review.h has
// the ones that talk to the Kubernetes API.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "apiserver/auth/auth.h"
#include "apiserver/auth/single_flight.h"

namespace stash::apiserver {

using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;
using LogFn = std::function<void(const std::string&)>;

// True when `path` is one of `patterns`; a pattern ending in '*' matches
// every path with that prefix (as --authorization-always-allow-paths).
bool PathMatches(const std::vector<std::string>& patterns, const std::string& path);

// Requests without credentials to `paths` (--authorization-always-allow-
// paths) are system:anonymous, group system:unauthenticated; last in the
// chain, so every other request without credentials stays a 401.
class AnonymousPathAuthenticator : public Authenticator {
 public:
  explicit AnonymousPathAuthenticator(std::vector<std::string> paths) : paths_(std::move(paths)) {}
  Authentication Authenticate(const Request& request) override;

 private:
  std::vector<std::string> paths_;
};

struct RequestHeaderConfig {
  std::vector<std::string> allowed_names;  // empty: any certificate of the CA
  std::vector<std::string> username_headers = {"X-Remote-User"};
  std::vector<std::string> group_headers = {"X-Remote-Group"};
  std::vector<std::string> extra_prefixes = {"X-Remote-Extra-"};
};

class RequestHeaderAuthenticator : public Authenticator {
 public:
  explicit RequestHeaderAuthenticator(RequestHeaderConfig config);
  // nullopt unless the certificate is a front-proxy one and a username
  // header is set; an error for a front-proxy certificate of a name not
  // allowed.
  Authentication Authenticate(const Request& request) override;

 private:
  UserInfo UserFromHeaders(const Headers& headers, std::string name) const;
  RequestHeaderConfig config_;
};

struct TokenReviewResult {
  bool authenticated = false;
  UserInfo user;
  std::string error;  // status.error: why not
};

class TokenReviewer {
 public:
  virtual ~TokenReviewer() = default;
  // An error when the review could not be made (transport, bad answer).
  virtual Result<TokenReviewResult> Review(const std::string& token) = 0;
};

// "Authorization: Bearer <token>" checked by `reviewer`. Answers (both
// authenticated and not) are cached for `ttl`, keyed by the token's
// SHA-256 so no token is kept; errors are not cached. TryAuthenticate
// answers requests without a token and tokens in the cache.
class TokenReviewAuthenticator : public Authenticator {
 public:
  TokenReviewAuthenticator(TokenReviewer* reviewer, std::chrono::milliseconds ttl, LogFn log,
                           SteadyClock clock = std::chrono::steady_clock::now);
  Authentication Authenticate(const Request& request) override;
  std::optional<Authentication> TryAuthenticate(const Request& request) override;

 private:
  struct Entry {
    std::chrono::steady_clock::time_point expires;
    TokenReviewResult result;
  };
  std::optional<TokenReviewResult> Lookup(const std::string& key);
  Result<TokenReviewResult> Review(const std::string& key, const std::string& token);
  Authentication Answer(const Result<TokenReviewResult>& review) const;

  TokenReviewer* reviewer_;
  std::chrono::milliseconds ttl_;
  LogFn log_;
  SteadyClock clock_;
  std::mutex mu_;
  std::map<std::string, Entry> cache_;
  SingleFlight<Result<TokenReviewResult>> flights_;
};

class SubjectAccessReviewer {
 public:
  virtual ~SubjectAccessReviewer() = default;
  // An error when the review could not be made.
  virtual Result<Decision> Review(const Attributes& attributes) = 0;
};

struct SubjectAccessReviewOptions {
  std::chrono::milliseconds authorized_ttl{10000};
  std::chrono::milliseconds unauthorized_ttl{10000};
  std::vector<std::string> always_allow_paths = {"/healthz", "/readyz", "/livez"};
  // k8s.io/apiserver's default: the aggregator and cluster admins are never
  // asked about.
  std::vector<std::string> always_allow_groups = {"system:masters"};
};

// Asks `reviewer` (nullptr: nobody can be asked, so only the always-allowed
// paths and groups pass), caching decisions keyed by every attribute.
// TryAuthorize answers the always-allowed and cached ones.
class SubjectAccessReviewAuthorizer : public Authorizer {
 public:
  SubjectAccessReviewAuthorizer(SubjectAccessReviewer* reviewer, SubjectAccessReviewOptions options,
                                SteadyClock clock = std::chrono::steady_clock::now);
  Result<Decision> Authorize(const Attributes& attributes) override;
  std::optional<Result<Decision>> TryAuthorize(const Attributes& attributes) override;

 private:
  struct Entry {
    std::chrono::steady_clock::time_point expires;
    Decision decision;
  };
  bool AlwaysAllowed(const Attributes& a) const;
  std::optional<Result<Decision>> Quick(const Attributes& a, const std::string& key);
  Result<Decision> Review(const Attributes& a, const std::string& key);

  SubjectAccessReviewer* reviewer_;
  SubjectAccessReviewOptions options_;
  SteadyClock clock_;
  std::mutex mu_;
  std::map<std::string, Entry> cache_;
  SingleFlight<Result<Decision>> flights_;
};

}  // namespace stash::apiserver
