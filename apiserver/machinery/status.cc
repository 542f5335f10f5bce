#include "apiserver/machinery/status.h"

#include "base/json_out.h"

namespace stash::apiserver {
namespace {

ApiStatus Make(int code, std::string reason, std::string message) {
  ApiStatus s;
  s.code = code;
  s.reason = std::move(reason);
  s.message = std::move(message);
  return s;
}

void WriteDetails(JsonOut& out, const std::string& name, const std::string& group,
                  const std::string& kind, const std::string& uid, int retry_after) {
  if (name.empty() && group.empty() && kind.empty() && uid.empty() && retry_after == 0) return;
  out.Key("details").Open();
  if (!name.empty()) out.Field("name", name);
  if (!group.empty()) out.Field("group", group);
  if (!kind.empty()) out.Field("kind", kind);
  if (!uid.empty()) out.Field("uid", uid);
  if (retry_after > 0) out.FieldInt("retryAfterSeconds", retry_after);
  out.Close();
}

}  // namespace

std::string StatusJson(const ApiStatus& s) {
  JsonOut out;
  out.Open().Field("kind", "Status").Field("apiVersion", "v1");
  out.Key("metadata").Open().Close();
  out.Field("status", "Failure").Field("message", s.message).Field("reason", s.reason);
  WriteDetails(out, s.name, s.group, s.kind, s.uid, s.retry_after_seconds);
  out.FieldInt("code", s.code).Close();
  return out.Take();
}

std::string SuccessStatusJson(const std::string& name, const std::string& group,
                              const std::string& kind, const std::string& uid) {
  JsonOut out;
  out.Open().Field("kind", "Status").Field("apiVersion", "v1");
  out.Key("metadata").Open().Close();
  out.Field("status", "Success");
  WriteDetails(out, name, group, kind, uid, 0);
  out.Close();
  return out.Take();
}

Response StatusResponse(const ApiStatus& status) {
  Response r;
  r.status = status.code;
  r.body = StatusJson(status);
  if (status.retry_after_seconds > 0) {
    r.headers.Add("Retry-After", std::to_string(status.retry_after_seconds));
  }
  return r;
}

ApiStatus NotFoundStatus(const std::string& group, const std::string& resource,
                         const std::string& name) {
  std::string qualified = group.empty() ? resource : resource + "." + group;
  ApiStatus s = Make(404, "NotFound", qualified + " \"" + name + "\" not found");
  s.name = name;
  s.group = group;
  s.kind = resource;
  return s;
}

ApiStatus PathNotFoundStatus() {
  ApiStatus s = Make(404, "NotFound", "the server could not find the requested resource");
  return s;
}

ApiStatus MethodNotAllowedStatus(const std::string& message) {
  return Make(405, "MethodNotAllowed",
              message.empty() ? "the server does not allow this method on the requested resource" : message);
}

ApiStatus BadRequestStatus(const std::string& message) {
  return Make(400, "BadRequest", message);
}

ApiStatus UnauthorizedStatus() { return Make(401, "Unauthorized", "Unauthorized"); }

ApiStatus ForbiddenStatus(const std::string& message) {
  return Make(403, "Forbidden", message);
}

ApiStatus NotAcceptableStatus(const std::string& supported) {
  return Make(406, "NotAcceptable",
              "the server was unable to respond with a content type that the client "
              "supports (supported: " + supported + ")");
}

ApiStatus UnsupportedMediaTypeStatus(const std::string& content_type) {
  return Make(415, "UnsupportedMediaType",
              "the body of the request was in an unknown format - accepted media types "
              "include: application/json (got \"" + content_type + "\")");
}

ApiStatus ConflictStatus(const std::string& message) { return Make(409, "Conflict", message); }

ApiStatus ExpiredStatus(const std::string& message) { return Make(410, "Expired", message); }

ApiStatus InternalErrorStatus(const std::string& message) {
  return Make(500, "InternalError", "Internal error occurred: " + message);
}

ApiStatus ServiceUnavailableStatus(const std::string& message) {
  ApiStatus s = Make(503, "ServiceUnavailable", message);
  s.retry_after_seconds = 1;
  return s;
}

ApiStatus TooManyRequestsStatus() {
  ApiStatus s = Make(429, "TooManyRequests", "Too many requests, please try again later.");
  s.retry_after_seconds = 1;
  return s;
}

ApiStatus TooLargeStatus(int code, const std::string& message) {
  return Make(code, code == 413 ? "RequestEntityTooLarge" : "BadRequest", message);
}

ApiStatus StatusFromError(const Error& error, const std::string& group,
                          const std::string& resource, const std::string& name) {
  switch (error.kind()) {
    case ErrorKind::kNotFound: return NotFoundStatus(group, resource, name);
    case ErrorKind::kInvalid: return BadRequestStatus(error.message());
    case ErrorKind::kConflict: {
      ApiStatus s = ConflictStatus(error.message());
      s.name = name;
      s.group = group;
      s.kind = resource;
      return s;
    }
    case ErrorKind::kIO: return ServiceUnavailableStatus(error.message());
    default: return InternalErrorStatus(error.message());
  }
}

Response UnreadableRequestResponse(int code, const std::string& message) {
  return StatusResponse(code == 400 ? BadRequestStatus(message) : TooLargeStatus(code, message));
}

}  // namespace stash::apiserver
