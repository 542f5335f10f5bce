#include "apiserver/router.h"

#include <chrono>
#include <cstdio>

#include "base/json_out.h"
#include "apiserver/machinery/negotiate.h"
#include "apiserver/machinery/status.h"

namespace stash::apiserver {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<ResourceInfo> Infos(const std::vector<RestHandler*>& handlers) {
  std::vector<ResourceInfo> out;
  for (const auto* h : handlers) out.push_back(h->info());
  return out;
}

std::vector<ServedResource> Served(const std::vector<RestHandler*>& handlers) {
  std::vector<ServedResource> out;
  for (const auto* h : handlers) out.push_back({h->info(), h->storage().schema()});
  return out;
}

Response Json(std::string body, std::string content_type = "application/json") {
  Response r;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i + 1);
    if (j == std::string::npos) j = path.size();
    if (j > i + 1) out.push_back(path.substr(i + 1, j - i - 1));
    i = j;
  }
  return out;
}

}  // namespace

// Logs and counts a request when its response starts.
class RecordingResponder : public Responder {
 public:
  RecordingResponder(const Router& router, std::shared_ptr<Responder> inner, const Request& request)
      : router_(router), inner_(std::move(inner)), method_(request.method), target_(request.target),
        start_(Clock::now()) {}

  void SetRequest(std::string user, const RequestInfo& info) {
    user_ = std::move(user);
    verb_ = info.verb;
    group_ = info.api_group;
    version_ = info.api_version;
    resource_ = info.resource;
  }

  void Send(Response response) override {
    Record(response.status);
    inner_->Send(std::move(response));
  }

  std::shared_ptr<StreamWriter> Stream(int status, std::string content_type, Headers headers) override {
    Record(status);
    return inner_->Stream(status, std::move(content_type), std::move(headers));
  }

 private:
  void Record(int status) {
    double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    const RouterParts& p = router_.parts_;
    if (p.metrics) {
      std::string verb = verb_.empty() ? "unknown" : verb_;
      p.metrics->Add("apiserver_request_total", {{"verb", verb}, {"group", group_}, {"version", version_},
                                                 {"resource", resource_}, {"code", std::to_string(status)}});
      p.metrics->Observe("apiserver_request_duration_seconds", {{"verb", verb}, {"resource", resource_}}, seconds);
    }
    if (p.log) {
      for (char& c : target_) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';  // one request, one log line
      }
      char latency[32];
      std::snprintf(latency, sizeof latency, "%.1fms", seconds * 1000);
      p.log("\"" + method_ + " " + target_ + "\" " + std::to_string(status) + " user=\"" + user_ +
            "\" " + latency);
    }
  }

  const Router& router_;
  std::shared_ptr<Responder> inner_;
  std::string method_, target_, user_, verb_, group_, version_, resource_;
  Clock::time_point start_;
};

Router::Router(RouterParts parts)
    : parts_(std::move(parts)), discovery_(Infos(parts_.resources)), openapi_(Served(parts_.resources)) {}

void Router::DeclareMetrics(Metrics& metrics) {
  metrics.Counter("apiserver_request_total",
                  "Counter of apiserver requests broken out for each verb, group, version, resource "
                  "and HTTP response code.");
  metrics.Histogram("apiserver_request_duration_seconds",
                    "Response latency distribution in seconds for each verb and resource (until the "
                    "response starts, for watches).",
                    {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60});
}

void Router::Handle(Request request, std::shared_ptr<Responder> responder) {
  auto recording = std::make_shared<RecordingResponder>(*this, std::move(responder), request);
  Route(std::move(request), recording);
}

void Router::Route(Request request, const ResponderPtr& responder) {
  Response response;
  if (parts_.health && parts_.health->Serve(request.path, request.query, response)) {
    return responder->Send(std::move(response));
  }
  if (!parts_.authenticator) return Authenticated(std::optional<UserInfo>(), std::move(request), responder, false);
  if (auto user = parts_.authenticator->TryAuthenticate(request)) {
    return Authenticated(std::move(*user), std::move(request), responder, false);
  }
  OffNetworkThread([this, request = std::move(request), responder]() mutable {
    Authentication user = parts_.authenticator->Authenticate(request);
    Authenticated(std::move(user), std::move(request), responder, true);
  }, responder);
}

void Router::Authenticated(Authentication user, Request request, const ResponderPtr& responder, bool may_wait) {
  if (!user.ok() || !*user) return responder->Send(StatusResponse(UnauthorizedStatus()));
  RequestInfo info = ParseRequestInfo(request.method, request.path, request.query);
  static_cast<RecordingResponder*>(responder.get())->SetRequest((*user)->name, info);
  UserInfo who = std::move(**user);
  if (!parts_.authorizer) return Serve(info, std::move(request), std::move(who), responder);
  Attributes attributes = AttributesFor(who, info);
  if (may_wait) {
    auto decision = parts_.authorizer->Authorize(attributes);
    return Authorized(decision, attributes, info, std::move(request), std::move(who), responder);
  }
  if (auto decision = parts_.authorizer->TryAuthorize(attributes)) {
    return Authorized(*decision, attributes, info, std::move(request), std::move(who), responder);
  }
  OffNetworkThread([this, attributes, info, request = std::move(request), who = std::move(who), responder]() mutable {
    auto decision = parts_.authorizer->Authorize(attributes);
    Authorized(decision, attributes, info, std::move(request), std::move(who), responder);
  }, responder);
}

void Router::Authorized(const Result<Decision>& decision, const Attributes& attributes, const RequestInfo& info,
                        Request request, UserInfo user, const ResponderPtr& responder) {
  if (!decision.ok()) return responder->Send(StatusResponse(InternalErrorStatus(decision.error().message())));
  if (!decision->allowed) {
    ApiStatus s = ForbiddenStatus(ForbiddenMessage(attributes, decision->reason));
    if (info.is_resource_request) s.name = info.name, s.group = info.api_group, s.kind = info.resource;
    return responder->Send(StatusResponse(s));
  }
  Serve(info, std::move(request), std::move(user), responder);
}

// Resource requests go on to their handler (which runs storage work on its
// pool); the rest are answered from memory, on this thread.
void Router::Serve(const RequestInfo& info, Request request, UserInfo user, const ResponderPtr& responder) {
  if (info.is_resource_request) {
    if (RestHandler* handler = HandlerFor(info)) {
      return handler->Handle(info, std::move(request), std::move(user), responder);
    }
    return responder->Send(StatusResponse(PathNotFoundStatus()));
  }
  Response response;
  if (request.method != "GET" && request.method != "HEAD") {
    bool known = ServeNonResource(request, response);
    return responder->Send(StatusResponse(known ? MethodNotAllowedStatus() : PathNotFoundStatus()));
  }
  if (!ServeNonResource(request, response)) response = StatusResponse(PathNotFoundStatus());
  responder->Send(std::move(response));
}

void Router::OffNetworkThread(std::function<void()> job, const ResponderPtr& responder) {
  if (!parts_.auth_pool) return job();
  // The job holds a reference to the responder too; ours keeps it alive
  // when the job is refused and dropped, so the 429 still goes out.
  if (!parts_.auth_pool->TrySubmit(std::move(job))) responder->Send(StatusResponse(TooManyRequestsStatus()));
}

RestHandler* Router::HandlerFor(const RequestInfo& info) const {
  for (auto* h : parts_.resources) {
    const ResourceInfo& r = h->info();
    if (r.group == info.api_group && r.version == info.api_version && r.plural == info.resource) return h;
  }
  return nullptr;
}

bool Router::ServeNonResource(const Request& request, Response& response) const {
  const std::string& path = request.path;
  if (path == "/version" || path == "/version/") {
    response = Json(VersionJson());
    return true;
  }
  if (path == "/metrics" && parts_.metrics) {
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = parts_.metrics->Render();
    return true;
  }
  if (path == "/") {
    response = Json("{\"paths\":[\"/apis\",\"/healthz\",\"/livez\",\"/metrics\",\"/openapi/v2\","
                    "\"/openapi/v3\",\"/readyz\",\"/version\"]}");
    return true;
  }
  if (path.rfind("/openapi/", 0) == 0) return ServeOpenApi(request, response);
  if (path.rfind("/api/v1/namespaces/", 0) == 0) return ServeNamespace(request, response);
  return ServeDiscovery(request, response);
}

bool Router::ServeDiscovery(const Request& request, Response& response) const {
  auto parts = Segments(request.path);
  if (parts.empty() || (parts[0] != "api" && parts[0] != "apis")) return false;
  std::string accept = request.headers.Get("Accept");
  if (parts.size() == 1) {
    auto choice = Negotiate(accept, {Representation::kJson, Representation::kDiscoveryV2,
                                     Representation::kDiscoveryV2Beta1});
    if (!choice) {
      response = StatusResponse(NotAcceptableStatus("application/json, application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"));
      return true;
    }
    bool aggregated = choice->representation != Representation::kJson;
    if (parts[0] == "api") {
      // No core group here: an empty aggregated list, or 404 as kubectl tolerates.
      if (!aggregated) return false;
      response = Json(Discovery::EmptyAggregated(choice->version), choice->content_type);
    } else {
      response = aggregated ? Json(discovery_.Aggregated(choice->version), choice->content_type)
                            : Json(discovery_.GroupList());
    }
    return true;
  }
  if (parts[0] != "apis" || parts.size() > 3) return false;
  auto doc = parts.size() == 2 ? discovery_.Group(parts[1]) : discovery_.ResourceList(parts[1], parts[2]);
  if (!doc) return false;
  response = Json(std::move(*doc));
  return true;
}

bool Router::ServeOpenApi(const Request& request, Response& response) const {
  const std::string& path = request.path;
  if (path == "/openapi/v2") {
    response = OpenApiV2(request.headers.Get("Accept"));
    return true;
  }
  if (path == "/openapi/v3") {
    response = Json(openapi_.V3Index());
    return true;
  }
  std::string prefix = "/openapi/v3/apis/";
  if (path.rfind(prefix, 0) != 0) return false;
  std::string gv = path.substr(prefix.size());
  const std::string* doc = openapi_.V3(gv);
  if (!doc) return false;
  response = Json(*doc);
  bool current = request.query.Get("hash") == openapi_.V3Hash(gv);
  response.headers.Add("Cache-Control", current ? "public, immutable" : "no-cache, no-store");
  response.headers.Add("Etag", "\"" + openapi_.V3Hash(gv) + "\"");
  return true;
}

// JSON for the aggregator (and anyone asking for JSON), protobuf for
// kubectl; one URL, so caches must key on Accept.
Response Router::OpenApiV2(const std::string& accept) const {
  auto choice = Negotiate(accept, {Representation::kJson, Representation::kOpenApiProtobuf});
  Response response;
  if (!choice) {
    response = StatusResponse(NotAcceptableStatus(
        "application/json, application/com.github.proto-openapi.spec.v2.v1.0+protobuf"));
  } else if (choice->representation == Representation::kJson) {
    response = Json(openapi_.V2());
  } else if (!openapi_.V2Protobuf().ok()) {
    response = StatusResponse(InternalErrorStatus(openapi_.V2Protobuf().error().message()));
  } else {
    response.body = *openapi_.V2Protobuf();
    response.content_type = choice->content_type;
  }
  response.headers.Add("Vary", "Accept");
  return response;
}

bool Router::ServeNamespace(const Request& request, Response& response) const {
  auto parts = Segments(request.path);  // api v1 namespaces NAME
  if (!parts_.namespace_phase || parts.size() != 4) return false;
  auto phase = parts_.namespace_phase(parts[3]);
  if (!phase) {
    response = StatusResponse(NotFoundStatus("", "namespaces", parts[3]));
    return true;
  }
  JsonOut out;
  out.Open().Field("kind", "Namespace").Field("apiVersion", "v1");
  out.Key("metadata").Open().Field("name", parts[3]).Close();
  out.Key("status").Open().Field("phase", *phase).Close().Close();
  response = Json(out.Take());
  return true;
}

}  // namespace stash::apiserver
