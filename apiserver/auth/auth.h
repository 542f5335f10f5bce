// Authentication and authorization seams (docs/architecture.md, "Seams"): request -> user, and
// (user, verb, resource, namespace, name) -> allowed.
//
// Standalone mode plugs in client certificates signed by the server's CA
// and a small built-in policy; delegated authentication (front-proxy
// headers, TokenReview) and SubjectAccessReview plug in behind the same
// interfaces (delegated_auth.h, auth_setup.h).
//
// Each question has two forms: the full one, which may wait seconds on
// another server (a TokenReview), and a Try form that answers only when it
// can without waiting (a certificate, a cached review) and says "ask the
// full one" otherwise. The router asks the Try form on a network thread and
// the full one on the auth pool, so slow reviews never hold up the rest.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apiserver/machinery/server_types.h"
#include "apiserver/machinery/request_info.h"
#include "apiserver/machinery/resource.h"
#include "base/result.h"

namespace stash::apiserver {

// The user a request proves to be; nullopt when it carries no credentials
// the authenticator knows (the next one may); an error when it carries
// credentials that are not valid (401).
using Authentication = Result<std::optional<UserInfo>>;

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual Authentication Authenticate(const Request& request) = 0;
  // Authenticate's answer if it needs no waiting on another server, else
  // nullopt. The default suits authenticators that never wait.
  virtual std::optional<Authentication> TryAuthenticate(const Request& request) { return Authenticate(request); }
};

// A client certificate the TLS layer verified against the client CAs:
// user = CN, groups = O values.
class ClientCertAuthenticator : public Authenticator {
 public:
  Authentication Authenticate(const Request& request) override;
};

// Tries each in order; the first that accepts the request decides, and a
// rejection counts only when none accepts. Adds the group
// system:authenticated, as Kubernetes does.
class UnionAuthenticator : public Authenticator {
 public:
  explicit UnionAuthenticator(std::vector<std::unique_ptr<Authenticator>> chain);
  Authentication Authenticate(const Request& request) override;
  // Undecided as soon as one authenticator that must be asked is undecided.
  std::optional<Authentication> TryAuthenticate(const Request& request) override;

 private:
  template <class Ask>
  std::optional<Authentication> Walk(const Ask& ask);
  std::vector<std::unique_ptr<Authenticator>> chain_;
};

// What authorization is asked about (a SubjectAccessReview's attributes).
struct Attributes {
  UserInfo user;
  std::string verb;
  bool resource_request = false;
  std::string ns, group, version, resource, subresource, name;  // resource requests
  std::string path;                                             // others
};
Attributes AttributesFor(const UserInfo& user, const RequestInfo& info);

struct Decision {
  bool allowed = false;
  std::string reason;
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // An error (the authorizer could not decide) is answered with 500.
  virtual Result<Decision> Authorize(const Attributes& attributes) = 0;
  // Authorize's answer if it needs no waiting on another server, else
  // nullopt. The default suits authorizers that never wait.
  virtual std::optional<Result<Decision>> TryAuthorize(const Attributes& attributes) { return Authorize(attributes); }
};

// Standalone policy: members of system:masters may do anything; other
// authenticated users may read (get, list, watch, and GET on other paths).
class StandaloneAuthorizer : public Authorizer {
 public:
  Result<Decision> Authorize(const Attributes& attributes) override;
};

// kube-apiserver's Forbidden message: `snapshots.<group> "x" is forbidden:
// User "u" cannot delete resource "snapshots" in API group "<group>" in the
// namespace "demo"`, with the reason appended when there is one.
std::string ForbiddenMessage(const Attributes& attributes, const std::string& reason);

}  // namespace stash::apiserver
