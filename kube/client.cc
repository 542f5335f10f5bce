#include "kube/client.h"

#include <cctype>

#include "base/bytes.h"

#include "net/http_client.h"

namespace stash::kube {
namespace {

constexpr int kModifyAttempts = 5;

std::string ContentTypeOf(PatchType type) {
  switch (type) {
    case PatchType::kMerge: return "application/merge-patch+json";
    case PatchType::kJson: return "application/json-patch+json";
    case PatchType::kStrategicMerge: return "application/strategic-merge-patch+json";
    case PatchType::kApply: return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

// The error for a non-2xx answer, from its Status when it has one.
Error ApiError(const std::string& method, const std::string& path, const http::HttpResponse& response) {
  std::string body(response.body.begin(), response.body.end());
  std::string reason = response.reason, message;
  auto status = ParseObject(body, "Status");
  if (status.ok() && StringOf(**status, "kind") == "Status") {
    if (!StringOf(**status, "reason").empty()) reason = StringOf(**status, "reason");
    message = StringOf(**status, "message");
  }
  if (message.empty()) message = response.BodyText();
  for (char& c : reason) {
    if (c == ' ') c = '_';  // one word, so Reason() can find it
  }
  std::string text = method + " " + path + ": " + std::to_string(response.status) + " " + reason;
  if (!message.empty()) text += ": " + message;
  switch (response.status) {
    case 404: return NotFound(text);
    case 409: return Conflict(text);
    case 401:
    case 403: return AuthError(text);
    case 400:
    case 422: return Invalid(text);
    default: return IOError(text);
  }
}

std::string ListQuery(const ListOptions& o) {
  std::string q;
  auto add = [&q](const char* key, const std::string& value) {
    if (value.empty()) return;
    q += q.empty() ? "?" : "&";
    q += std::string(key) + "=" + QueryEscape(value);
  };
  add("labelSelector", o.label_selector);
  add("fieldSelector", o.field_selector);
  return q;
}

std::string Join(const std::string& query, const std::string& more) {
  return query + (query.empty() ? "?" : "&") + more;
}

// Splits a watch stream into lines, one JSON event each.
class EventLines {
 public:
  template <class F>
  bool Feed(std::string_view data, F&& on_line) {
    pending_.append(data);
    size_t start = 0;
    for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (nl > start && !on_line(std::string_view(pending_).substr(start, nl - start))) return false;
    }
    pending_.erase(0, start);
    return true;
  }

 private:
  std::string pending_;
};

}  // namespace

Result<WatchEvent> ParseWatchEvent(std::string_view line, const std::string& what) {
  STASH_ASSIGN_OR_RETURN(ObjectPtr event, ParseObject(line, what + " event"));
  WatchEvent e;
  e.type = StringOf(*event, "type");
  const Json* object = At(*event, "/object");
  if (e.type.empty() || !object || !object->IsObject()) {
    return Corrupt(what + ": an event without a type or an object");
  }
  auto doc = std::make_shared<rapidjson::Document>();
  doc->CopyFrom(*object, doc->GetAllocator());
  e.object = std::move(doc);
  return e;
}

std::string QueryEscape(std::string_view value) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string Reason(const Error& error) {
  // "<verb> <path>: <code> <Reason>[: message]"
  const std::string& m = error.message();
  for (size_t at = m.find(": "); at != std::string::npos; at = m.find(": ", at + 1)) {
    size_t p = at + 2;
    if (p + 4 > m.size() || !std::isdigit(static_cast<unsigned char>(m[p])) ||
        !std::isdigit(static_cast<unsigned char>(m[p + 1])) ||
        !std::isdigit(static_cast<unsigned char>(m[p + 2])) || m[p + 3] != ' ') {
      continue;
    }
    size_t end = m.find_first_of(": ", p + 4);
    return m.substr(p + 4, end == std::string::npos ? std::string::npos : end - (p + 4));
  }
  return "";
}

Result<std::unique_ptr<Client>> Client::Create(ClusterAccess access, ClientOptions options) {
  auto url = http::ParseUrl(access.server);
  if (!url.ok()) return url.error().Wrap("kubernetes server " + access.server);
  http::HttpOptions h;
  h.ca_pem = access.ca_pem;
  h.client_cert_pem = access.client_cert_pem;
  h.client_key_pem = access.client_key_pem;
  if (access.exec && h.client_cert_pem.empty()) {
    // A plugin may hand out a client certificate instead of a token; the
    // TLS context needs it before the first connection.
    auto c = RunExecPlugin(*access.exec);
    if (!c.ok()) return c.error();
    h.client_cert_pem = c->client_cert_pem;
    h.client_key_pem = c->client_key_pem;
  }
  h.connect_timeout = std::min(options.timeout, std::chrono::milliseconds(10000));
  h.idle_timeout = options.timeout;
  h.retry.max_attempts = options.max_attempts;
  h.retry.base_delay = std::chrono::milliseconds(200);
  h.retry.max_delay = std::chrono::milliseconds(5000);
  auto client = http::HttpClient::Create("kube", *url, std::move(h));
  if (!client.ok()) return client.error();
  std::string base = url->path == "/" ? "" : url->path;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return std::unique_ptr<Client>(new Client(std::move(access), base, std::move(*client), options));
}

Client::Client(ClusterAccess access, std::string base_path, std::unique_ptr<http::HttpClient> http,
               ClientOptions options)
    : access_(access),
      base_path_(std::move(base_path)),
      default_ns_(access.ns.empty() ? "default" : access.ns),
      http_(std::move(http)),
      options_(std::move(options)),
      credentials_(std::move(access)) {}

Client::~Client() = default;

Result<std::string> Client::Request(const std::string& method, const std::string& path,
                                    const std::string& body, const std::string& content_type) {
  for (int auth_try = 0;; ++auth_try) {
    STASH_ASSIGN_OR_RETURN(std::string token, credentials_.Token());
    http::HttpRequest r;
    r.method = method;
    r.target = base_path_ + path;
    r.what = path;
    r.headers = {{"Accept", "application/json"}, {"User-Agent", options_.user_agent}};
    if (!body.empty()) r.headers.emplace_back("Content-Type", content_type.empty() ? "application/json" : content_type);
    if (!token.empty()) r.headers.emplace_back("Authorization", "Bearer " + token);
    r.body = AsBytes(body);
    auto response = http_->Do(r);
    if (!response.ok()) return response.error();
    if (response->status >= 200 && response->status < 300) {
      return std::string(response->body.begin(), response->body.end());
    }
    if (response->status == 401 && auth_try == 0 && credentials_.Refreshable()) {
      credentials_.Invalidate();
      continue;
    }
    return ApiError(method, path, *response);
  }
}

Result<ObjectPtr> Client::SendObject(const std::string& method, const std::string& path,
                                     const std::string& body, const std::string& content_type) {
  STASH_ASSIGN_OR_RETURN(std::string answer, Request(method, path, body, content_type));
  return ParseObject(answer, method + " " + path);
}

Result<ObjectPtr> Client::Get(const Resource& r, const std::string& ns, const std::string& name) {
  return SendObject("GET", r.Path(ns, name), "", "");
}

Result<ObjectList> Client::List(const Resource& r, const std::string& ns, const ListOptions& options) {
  ObjectList out;
  std::string query = Join(ListQuery(options), "limit=" + std::to_string(options.limit));
  std::string next;
  do {
    std::string path = r.Path(ns) + query + (next.empty() ? "" : "&continue=" + QueryEscape(next));
    STASH_ASSIGN_OR_RETURN(ObjectPtr page, SendObject("GET", path, "", ""));
    out.resource_version = StringAt(*page, "/metadata/resourceVersion");
    next = StringAt(*page, "/metadata/continue");
    const Json* items = At(*page, "/items");
    if (!items || !items->IsArray()) continue;
    for (const auto& item : items->GetArray()) {
      auto doc = std::make_shared<rapidjson::Document>();
      doc->CopyFrom(item, doc->GetAllocator());
      // List items carry no apiVersion/kind of their own.
      if (!doc->HasMember("kind")) {
        doc->AddMember("apiVersion", rapidjson::Value(r.ApiVersion().c_str(), doc->GetAllocator()),
                       doc->GetAllocator());
        doc->AddMember("kind", rapidjson::Value(r.kind.c_str(), doc->GetAllocator()), doc->GetAllocator());
      }
      out.items.push_back(std::move(doc));
    }
  } while (!next.empty());
  return out;
}

Result<ObjectPtr> Client::Create(const Resource& r, const std::string& ns, const std::string& json) {
  return SendObject("POST", r.Path(ns), json, "application/json");
}

Result<ObjectPtr> Client::Update(const Resource& r, const std::string& ns, const std::string& json) {
  STASH_ASSIGN_OR_RETURN(ObjectPtr obj, ParseObject(json, "object to update"));
  return SendObject("PUT", r.Path(ns, Name(*obj)), json, "application/json");
}

Result<ObjectPtr> Client::UpdateStatus(const Resource& r, const std::string& ns, const std::string& json) {
  STASH_ASSIGN_OR_RETURN(ObjectPtr obj, ParseObject(json, "object to update"));
  return SendObject("PUT", r.Path(ns, Name(*obj), "status"), json, "application/json");
}

Result<ObjectPtr> Client::Patch(const Resource& r, const std::string& ns, const std::string& name,
                                PatchType type, const std::string& patch, const std::string& subresource) {
  return SendObject("PATCH", r.Path(ns, name, subresource), patch, ContentTypeOf(type));
}

Result<ObjectPtr> Client::Apply(const Resource& r, const std::string& ns, const std::string& name,
                                const std::string& json, const std::string& field_manager, bool force) {
  std::string path = r.Path(ns, name) + "?fieldManager=" + QueryEscape(field_manager) +
                     (force ? "&force=true" : "");
  return SendObject("PATCH", path, json, ContentTypeOf(PatchType::kApply));
}

Status Client::Delete(const Resource& r, const std::string& ns, const std::string& name,
                      const std::string& uid, bool missing_ok) {
  std::string body = uid.empty() ? "" :
      R"({"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":")" + uid + "\"}}";
  auto answer = Request("DELETE", r.Path(ns, name), body, "application/json");
  if (!answer.ok() && !(missing_ok && answer.error().kind() == ErrorKind::kNotFound)) return answer.error();
  return Status::Ok();
}

Result<ObjectPtr> Client::Modify(const Resource& r, const std::string& ns, const std::string& name,
                                 const std::function<bool(rapidjson::Document&)>& mutate, bool status) {
  for (int attempt = 1;; ++attempt) {
    STASH_ASSIGN_OR_RETURN(ObjectPtr current, Get(r, ns, name));
    auto copy = Clone(*current);
    if (!mutate(*copy)) return current;
    std::string json = ToJson(*copy);
    auto written = status ? UpdateStatus(r, ns, json) : Update(r, ns, json);
    if (written.ok() || written.error().kind() != ErrorKind::kConflict || attempt >= kModifyAttempts) {
      return written;
    }
  }
}

Result<WatchEnd> Client::Watch(const Resource& r, const std::string& ns, const ListOptions& options,
                               const std::string& resource_version, std::chrono::seconds server_timeout,
                               const std::function<bool(const WatchEvent&)>& on_event,
                               const std::atomic<bool>* cancel) {
  STASH_ASSIGN_OR_RETURN(std::string token, credentials_.Token());
  std::string path = r.Path(ns) +
                     Join(ListQuery(options), "watch=1&allowWatchBookmarks=true&resourceVersion=" +
                                                  QueryEscape(resource_version) +
                                                  "&timeoutSeconds=" + std::to_string(server_timeout.count()));
  http::HttpRequest req;
  req.target = base_path_ + path;
  req.what = "watch " + r.Path(ns);
  req.headers = {{"Accept", "application/json"}, {"User-Agent", options_.user_agent}};
  if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
  req.idle_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(server_timeout) +
                     std::chrono::seconds(30);
  http::HttpResponse head;
  EventLines lines;
  Error failure = IOError("");
  bool failed = false, expired = false, stopped = false;
  auto on_line = [&](std::string_view line) {
    auto event = ParseWatchEvent(line, req.what);
    if (!event.ok()) {
      failure = event.error();
      return !(failed = true);
    }
    if (event->type == "ERROR") {
      const Json* code = At(*event->object, "/code");
      if (code && code->IsInt() && code->GetInt() == 410) return !(expired = true);
      failure = IOError(req.what + ": " + StringOf(*event->object, "reason") + ": " +
                        StringOf(*event->object, "message"));
      return !(failed = true);
    }
    if (!on_event(*event)) return !(stopped = true);
    return true;
  };
  Status s = http_->Stream(req, &head, [&](std::string_view data) { return lines.Feed(data, on_line); },
                           cancel);
  if (!s.ok()) return s.error();
  if (head.status == 410) return WatchEnd::kExpired;
  if (head.status == 401 && credentials_.Refreshable()) credentials_.Invalidate();
  if (head.status < 200 || head.status >= 300) return ApiError("GET", path, head);
  if (failed) return failure;
  if (expired) return WatchEnd::kExpired;
  if (stopped || (cancel && cancel->load())) return WatchEnd::kCancelled;
  return WatchEnd::kClosed;
}

}  // namespace stash::kube
