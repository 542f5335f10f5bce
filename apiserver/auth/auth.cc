#include "apiserver/auth/auth.h"

#include <algorithm>

namespace stash::apiserver {
namespace {

bool InGroup(const UserInfo& user, const std::string& group) {
  return std::find(user.groups.begin(), user.groups.end(), group) != user.groups.end();
}

}  // namespace

Authentication ClientCertAuthenticator::Authenticate(const Request& request) {
  const ClientCertificate& cert = request.client_cert;
  if (!cert.present) return std::optional<UserInfo>();
  if (!cert.verified) return AuthError("client certificate not accepted: " + cert.verify_error);
  if (cert.common_name.empty()) return AuthError("client certificate has no common name");
  UserInfo user;
  user.name = cert.common_name;
  user.groups = cert.organizations;
  return std::optional<UserInfo>(std::move(user));
}

UnionAuthenticator::UnionAuthenticator(std::vector<std::unique_ptr<Authenticator>> chain)
    : chain_(std::move(chain)) {}

// As Kubernetes: an authenticator that rejects the request does not stop a
// later one from accepting it (a front-proxy certificate without headers,
// then a bearer token); the first rejection is reported when none accepts.
// `ask` puts the question to one authenticator; when it cannot answer
// without waiting, neither can the chain.
template <class Ask>
std::optional<Authentication> UnionAuthenticator::Walk(const Ask& ask) {
  std::optional<Error> rejected;
  for (const auto& a : chain_) {
    std::optional<Authentication> result = ask(*a);
    if (!result) return std::nullopt;
    if (!result->ok()) {
      if (!rejected) rejected = result->error();
      continue;
    }
    if (!**result) continue;
    UserInfo user = std::move(***result);
    bool anonymous = user.name == "system:anonymous";
    if (!anonymous && !InGroup(user, "system:authenticated")) user.groups.push_back("system:authenticated");
    return Authentication(std::optional<UserInfo>(std::move(user)));
  }
  if (rejected) return Authentication(*rejected);
  return Authentication(std::optional<UserInfo>());
}

Authentication UnionAuthenticator::Authenticate(const Request& request) {
  return *Walk([&request](Authenticator& a) { return std::optional<Authentication>(a.Authenticate(request)); });
}

std::optional<Authentication> UnionAuthenticator::TryAuthenticate(const Request& request) {
  return Walk([&request](Authenticator& a) { return a.TryAuthenticate(request); });
}

Attributes AttributesFor(const UserInfo& user, const RequestInfo& info) {
  Attributes a;
  a.user = user;
  a.verb = info.verb;
  a.resource_request = info.is_resource_request;
  if (info.is_resource_request) {
    a.ns = info.ns;
    a.group = info.api_group;
    a.version = info.api_version;
    a.resource = info.resource;
    a.subresource = info.subresource;
    a.name = info.name;
  } else {
    a.path = info.path;
  }
  return a;
}

Result<Decision> StandaloneAuthorizer::Authorize(const Attributes& a) {
  if (InGroup(a.user, "system:masters")) return Decision{true, ""};
  bool read = a.resource_request ? (a.verb == "get" || a.verb == "list" || a.verb == "watch")
                                 : (a.verb == "get" || a.verb == "head");
  if (read) return Decision{true, ""};
  return Decision{false, "only members of system:masters may change objects in standalone mode"};
}

std::string ForbiddenMessage(const Attributes& a, const std::string& reason) {
  std::string user = "User \"" + a.user.name + "\"";
  std::string msg;
  if (!a.resource_request) {
    msg = "forbidden: " + user + " cannot " + a.verb + " path \"" + a.path + "\"";
  } else {
    std::string qualified = a.resource + (a.group.empty() ? "" : "." + a.group);
    msg = qualified + (a.name.empty() ? "" : " \"" + a.name + "\"") + " is forbidden: " + user +
          " cannot " + a.verb + " resource \"" + a.resource + "\"" +
          (a.subresource.empty() ? "" : "/" + a.subresource) + " in API group \"" + a.group + "\"" +
          (a.ns.empty() ? " at the cluster scope" : " in the namespace \"" + a.ns + "\"");
  }
  if (!reason.empty()) msg += ": " + reason;
  return msg;
}

}  // namespace stash::apiserver
