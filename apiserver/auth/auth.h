// Authentication and authorization seams (docs/architecture.md, "Seams"): request -> user, and
// (user, verb, resource, namespace, name) -> allowed.
//
// Standalone mode plugs in client certificates signed by the server's CA
// and a small built-in policy; delegated authentication (front-proxy
// headers, TokenReview) and SubjectAccessReview plug in behind the same
// interfaces (delegated_auth.h, auth_setup.h).
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

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // The user the request proves to be; nullopt when it carries no
  // credentials this authenticator knows (the next one may); an error when
  // it carries credentials that are not valid (401).
  virtual Result<std::optional<UserInfo>> Authenticate(const Request& request) = 0;
};

// A client certificate the TLS layer verified against the client CAs:
// user = CN, groups = O values.
class ClientCertAuthenticator : public Authenticator {
 public:
  Result<std::optional<UserInfo>> Authenticate(const Request& request) override;
};

// Tries each in order; the first that accepts the request decides, and a
// rejection counts only when none accepts. Adds the group
// system:authenticated, as Kubernetes does.
class UnionAuthenticator : public Authenticator {
 public:
  explicit UnionAuthenticator(std::vector<std::unique_ptr<Authenticator>> chain);
  Result<std::optional<UserInfo>> Authenticate(const Request& request) override;

 private:
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
