#include "apiserver/auth/delegated_auth.h"

#include <algorithm>
#include <cctype>

#include "base/bytes.h"
#include "base/string_util.h"
#include "crypto/id.h"

namespace stash::apiserver {
namespace {

// Caches stay small: past this many entries the expired ones go, then the
// refusals, and if that is not enough, all of them. A flood of distinct
// tokens must not grow memory without bound, nor push out the users who
// are let in (their requests would then wait behind the flood's reviews).
constexpr size_t kMaxCacheEntries = 4096;

template <class Map, class Now, class Refused>
void Trim(Map& cache, Now now, Refused refused) {
  if (cache.size() < kMaxCacheEntries) return;
  std::erase_if(cache, [&](const auto& kv) { return kv.second.expires <= now; });
  if (cache.size() >= kMaxCacheEntries) std::erase_if(cache, [&](const auto& kv) { return refused(kv.second); });
  if (cache.size() >= kMaxCacheEntries) cache.clear();
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

// The bearer token of `request`, or "" when it has none.
std::string BearerToken(const Request& request) {
  std::string auth = request.headers.Get("Authorization");
  if (!StartsWithIgnoreCase(auth, "bearer ")) return "";
  size_t start = auth.find_first_not_of(' ', 7);
  if (start == std::string::npos) return "";
  size_t end = auth.find_last_not_of(" \t");
  return auth.substr(start, end + 1 - start);
}

// Every attribute a decision depends on, unambiguously joined.
std::string CacheKey(const Attributes& a) {
  std::string k;
  auto add = [&k](const std::string& s) {
    k += std::to_string(s.size());
    k += ':';
    k += s;
  };
  add(a.user.name);
  add(a.user.uid);
  k += 'g' + std::to_string(a.user.groups.size());
  for (const auto& g : a.user.groups) add(g);
  k += 'e' + std::to_string(a.user.extra.size());
  for (const auto& [key, values] : a.user.extra) {
    add(key);
    k += 'v' + std::to_string(values.size());
    for (const auto& v : values) add(v);
  }
  k += a.resource_request ? 'R' : 'N';
  for (const auto* s : {&a.verb, &a.ns, &a.group, &a.version, &a.resource, &a.subresource, &a.name, &a.path}) {
    add(*s);
  }
  return k;
}

}  // namespace

bool PathMatches(const std::vector<std::string>& patterns, const std::string& path) {
  for (const auto& p : patterns) {
    if (!p.empty() && p.back() == '*') {
      if (path.compare(0, p.size() - 1, p, 0, p.size() - 1) == 0) return true;
    } else if (p == path) {
      return true;
    }
  }
  return false;
}

Authentication AnonymousPathAuthenticator::Authenticate(const Request& request) {
  if (!PathMatches(paths_, request.path)) return std::optional<UserInfo>();
  return std::optional<UserInfo>(UserInfo{"system:anonymous", "", {"system:unauthenticated"}, {}});
}

RequestHeaderAuthenticator::RequestHeaderAuthenticator(RequestHeaderConfig config)
    : config_(std::move(config)) {}

Authentication RequestHeaderAuthenticator::Authenticate(const Request& request) {
  const ClientCertificate& cert = request.client_cert;
  // Without a front-proxy certificate the headers are the client's own
  // words: ignore them.
  if (!cert.present || !cert.front_proxy_verified) return std::optional<UserInfo>();
  const auto& allowed = config_.allowed_names;
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), cert.common_name) == allowed.end()) {
    return AuthError("request header client certificate \"" + cert.common_name +
                     "\" is not in the allowed names");
  }
  std::string name;
  for (const auto& h : config_.username_headers) {
    name = request.headers.Get(h);
    if (!name.empty()) break;
  }
  if (name.empty()) return std::optional<UserInfo>();
  return std::optional<UserInfo>(UserFromHeaders(request.headers, std::move(name)));
}

UserInfo RequestHeaderAuthenticator::UserFromHeaders(const Headers& headers, std::string name) const {
  UserInfo user;
  user.name = std::move(name);
  for (const auto& h : config_.group_headers) {
    for (auto& v : headers.GetAll(h)) {
      if (!v.empty()) user.groups.push_back(std::move(v));
    }
  }
  for (const auto& [field, value] : headers.fields()) {
    for (const auto& prefix : config_.extra_prefixes) {
      if (field.size() <= prefix.size() || !StartsWithIgnoreCase(field, prefix)) continue;
      // Kubernetes lower-cases the key, then undoes the sender's escaping
      // (keys may hold '/', which header names cannot).
      std::string key = AsciiLower(field.substr(prefix.size()));
      auto decoded = PercentDecode(key, false);
      if (!value.empty()) user.extra[decoded ? *decoded : key].push_back(value);
      break;
    }
  }
  return user;
}

TokenReviewAuthenticator::TokenReviewAuthenticator(TokenReviewer* reviewer, std::chrono::milliseconds ttl,
                                                   LogFn log, SteadyClock clock)
    : reviewer_(reviewer), ttl_(ttl), log_(std::move(log)), clock_(std::move(clock)) {}

Authentication TokenReviewAuthenticator::Authenticate(const Request& request) {
  std::string token = BearerToken(request);
  if (token.empty()) return std::optional<UserInfo>();
  std::string key = Sha256(AsBytes(token)).Hex();
  if (auto hit = Lookup(key)) return Answer(*hit);
  return Answer(flights_.Do(key, [&] { return Review(key, token); }));
}

std::optional<Authentication> TokenReviewAuthenticator::TryAuthenticate(const Request& request) {
  std::string token = BearerToken(request);
  if (token.empty()) return Authentication(std::optional<UserInfo>());
  auto hit = Lookup(Sha256(AsBytes(token)).Hex());
  if (!hit) return std::nullopt;
  return Answer(*hit);
}

Authentication TokenReviewAuthenticator::Answer(const Result<TokenReviewResult>& review) const {
  if (!review.ok()) {
    // Kubernetes answers 401 too, and says why only in its log.
    if (log_) log_("Unable to authenticate the request due to an error: " + review.error().message());
    return AuthError("token review failed: " + review.error().message());
  }
  if (!review->authenticated || review->user.name.empty()) {
    return AuthError("token not authenticated" + (review->error.empty() ? "" : ": " + review->error));
  }
  return std::optional<UserInfo>(review->user);
}

std::optional<TokenReviewResult> TokenReviewAuthenticator::Lookup(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(key);
  if (it != cache_.end() && it->second.expires > clock_()) return it->second.result;
  return std::nullopt;
}

// Asked without the lock: a slow API server must not serialize requests.
Result<TokenReviewResult> TokenReviewAuthenticator::Review(const std::string& key, const std::string& token) {
  auto review = reviewer_->Review(token);
  if (!review.ok() || ttl_.count() <= 0) return review;
  std::lock_guard<std::mutex> lock(mu_);
  auto now = clock_();
  Trim(cache_, now, [](const Entry& e) { return !e.result.authenticated; });
  cache_[key] = Entry{now + ttl_, *review};
  return review;
}

SubjectAccessReviewAuthorizer::SubjectAccessReviewAuthorizer(SubjectAccessReviewer* reviewer,
                                                             SubjectAccessReviewOptions options,
                                                             SteadyClock clock)
    : reviewer_(reviewer), options_(std::move(options)), clock_(std::move(clock)) {}

bool SubjectAccessReviewAuthorizer::AlwaysAllowed(const Attributes& a) const {
  if (!a.resource_request && PathMatches(options_.always_allow_paths, a.path)) return true;
  for (const auto& g : options_.always_allow_groups) {
    if (std::find(a.user.groups.begin(), a.user.groups.end(), g) != a.user.groups.end()) return true;
  }
  return false;
}

Result<Decision> SubjectAccessReviewAuthorizer::Authorize(const Attributes& a) {
  std::string key = CacheKey(a);
  if (auto quick = Quick(a, key)) return *quick;
  return flights_.Do(key, [&] { return Review(a, key); });
}

std::optional<Result<Decision>> SubjectAccessReviewAuthorizer::TryAuthorize(const Attributes& a) {
  return Quick(a, CacheKey(a));
}

// A decision that needs nobody asked: always allowed, nobody to ask, or cached.
std::optional<Result<Decision>> SubjectAccessReviewAuthorizer::Quick(const Attributes& a, const std::string& key) {
  if (AlwaysAllowed(a)) return Result<Decision>(Decision{true, ""});
  if (!reviewer_) {
    return Result<Decision>(Decision{false, "no authorization-kubeconfig was given and not running in a cluster"});
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(key);
  if (it != cache_.end() && it->second.expires > clock_()) return Result<Decision>(it->second.decision);
  return std::nullopt;
}

Result<Decision> SubjectAccessReviewAuthorizer::Review(const Attributes& a, const std::string& key) {
  auto decision = reviewer_->Review(a);
  if (!decision.ok()) return decision.error().Wrap("subject access review");
  auto ttl = decision->allowed ? options_.authorized_ttl : options_.unauthorized_ttl;
  if (ttl.count() <= 0) return decision;
  std::lock_guard<std::mutex> lock(mu_);
  auto now = clock_();
  Trim(cache_, now, [](const Entry& e) { return !e.decision.allowed; });
  cache_[key] = Entry{now + ttl, *decision};
  return decision;
}

}  // namespace stash::apiserver
