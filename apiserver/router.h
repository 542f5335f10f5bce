// Router: the request pipeline of the API server, in kube-apiserver's
// order: health paths (no authentication) -> authenticate (401) ->
// authorize (403) -> discovery, OpenAPI, /version, /metrics, or a
// resource's REST handler -> 404 Status for anything else. Each request
// is logged and counted when its response starts.
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
  void Route(Request request, const std::shared_ptr<Responder>& responder);
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
