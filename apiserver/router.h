// Router: the request pipeline of the API server, in kube-apiserver's
// order: health paths (no authentication) -> authenticate (401) ->
// authorize (403) -> discovery, OpenAPI, /version, /metrics, or a
// resource's REST handler -> 404 Status for anything else. Each request
// is logged and counted when its response starts.
//
// Handle runs on a network thread and never waits there: health answers
// at once, and authentication and authorization answer there only when
// they can without asking another server (certificates, front-proxy
// headers, cached reviews). A request that needs a TokenReview or
// SubjectAccessReview goes to the auth pool, and when that pool's queue is
// full it is answered 429 with Retry-After, as kube-apiserver's max-in-
// flight limit does, so a flood of unknown tokens costs every other client
// nothing. Storage work runs on the REST handler's pool.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apiserver/auth/auth.h"
#include "apiserver/machinery/discovery.h"
#include "apiserver/machinery/health.h"
#include "apiserver/machinery/server_types.h"
#include "base/metrics.h"
#include "apiserver/machinery/openapi.h"
#include "apiserver/machinery/rest_handler.h"
#include "base/thread_pool.h"

namespace stash::apiserver {

struct RouterParts {
  HealthChecks* health = nullptr;
  Authenticator* authenticator = nullptr;
  Authorizer* authorizer = nullptr;
  Metrics* metrics = nullptr;
  std::vector<RestHandler*> resources;
  // Receives one line per request; nullptr for none.
  std::function<void(const std::string&)> log;
  // Standalone only: the phase of a namespace for GET /api/v1/namespaces/NAME
  // (kubectl asks to explain a NotFound); nullopt when it does not exist.
  std::function<std::optional<std::string>(const std::string&)> namespace_phase;
  // Where requests waiting on a review run (a bounded queue: TrySubmit);
  // nullptr runs them on the calling thread (tests).
  ThreadPool* auth_pool = nullptr;
};

class Router {
 public:
  explicit Router(RouterParts parts);

  // The server's Handler.
  void Handle(Request request, std::shared_ptr<Responder> responder);

  // Declares the request metrics in `metrics`.
  static void DeclareMetrics(Metrics& metrics);

 private:
  friend class RecordingResponder;
  using ResponderPtr = std::shared_ptr<Responder>;
  void Route(Request request, const ResponderPtr& responder);
  // The stages after health; `may_wait` is false on a network thread.
  void Authenticated(Authentication user, Request request, const ResponderPtr& responder, bool may_wait);
  void Authorized(const Result<Decision>& decision, const Attributes& attributes, const RequestInfo& info,
                  Request request, UserInfo user, const ResponderPtr& responder);
  void Serve(const RequestInfo& info, Request request, UserInfo user, const ResponderPtr& responder);
  // Runs `job` on the auth pool, or answers 429 when its queue is full.
  void OffNetworkThread(std::function<void()> job, const ResponderPtr& responder);
  bool ServeNonResource(const Request& request, Response& response) const;
  bool ServeDiscovery(const Request& request, Response& response) const;
  bool ServeOpenApi(const Request& request, Response& response) const;
  Response OpenApiV2(const std::string& accept) const;
  bool ServeNamespace(const Request& request, Response& response) const;
  RestHandler* HandlerFor(const RequestInfo& info) const;

  RouterParts parts_;
  Discovery discovery_;
  OpenApi openapi_;
};

}  // namespace stash::apiserver
