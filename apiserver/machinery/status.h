// Kubernetes Status objects: how every API error is answered.
//
// kubectl prints them as "Error from server (<reason>): <message>", so the
// reason and message follow kube-apiserver's wording.
#pragma once

#include <string>

#include "apiserver/machinery/server_types.h"
#include "base/result.h"

namespace stash::apiserver {

struct ApiStatus {
  int code = 500;
  std::string reason;  // "NotFound", "BadRequest", ...
  std::string message;
  // details: the object concerned, when there is one. `kind` is the
  // resource (plural), as kube-apiserver fills it.
  std::string name, group, kind, uid;
  int retry_after_seconds = 0;
};

// The JSON of a failure Status.
std::string StatusJson(const ApiStatus& status);
// {"kind":"Status",...,"status":"Success","details":{...}}
std::string SuccessStatusJson(const std::string& name, const std::string& group,
                              const std::string& kind, const std::string& uid);
Response StatusResponse(const ApiStatus& status);

// "snapshots.repositories.stash.appscode.com \"x\" not found"
ApiStatus NotFoundStatus(const std::string& group, const std::string& resource,
                         const std::string& name);
// An unknown path: "the server could not find the requested resource".
ApiStatus PathNotFoundStatus();
// `message` says why; empty for kube-apiserver's generic wording.
ApiStatus MethodNotAllowedStatus(const std::string& message = "");
ApiStatus BadRequestStatus(const std::string& message);
ApiStatus UnauthorizedStatus();
ApiStatus ForbiddenStatus(const std::string& message);
ApiStatus NotAcceptableStatus(const std::string& supported);
ApiStatus UnsupportedMediaTypeStatus(const std::string& content_type);
ApiStatus ConflictStatus(const std::string& message);
ApiStatus ExpiredStatus(const std::string& message);
ApiStatus InternalErrorStatus(const std::string& message);
ApiStatus ServiceUnavailableStatus(const std::string& message);
// kube-apiserver's answer when too many requests are in flight: 429 with
// Retry-After: 1.
ApiStatus TooManyRequestsStatus();
// 413 and 431: the request body or its header fields are too large.
ApiStatus TooLargeStatus(int code, const std::string& message);
// The Status answering a request the HTTP server could not read (400, 413,
// 431): ServerOptions::error_response of an API server.
Response UnreadableRequestResponse(int code, const std::string& message);

// Maps a storage error on object `name` of `group`/`resource` to a Status:
// kNotFound 404, kInvalid 400, kConflict 409, kIO 503, others 500.
ApiStatus StatusFromError(const Error& error, const std::string& group,
                          const std::string& resource, const std::string& name);

}  // namespace stash::apiserver
