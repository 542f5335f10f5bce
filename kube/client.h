// Client: the Kubernetes REST verbs over the project's HTTP client.
//
// Every call is blocking and safe from many threads. Objects go in as JSON
// text and come back parsed (object.h). Transport failures, 5xx and 429
// answers are retried with backoff by the HTTP client (429's Retry-After is
// honoured); a 401 with a token from a file or exec plugin re-reads the
// token and tries once more. Other errors come back as the server's Status:
// the message is "<verb> <path>: <code> <reason>: <message>", the kind maps
// the code (404 kNotFound, 409 kConflict, 401/403 kAuth, 400/422 kInvalid,
// the rest kIO), and Reason() recovers the reason word.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "kube/config.h"
#include "kube/credentials.h"
#include "kube/object.h"
#include "kube/resource.h"

namespace stash::http {
class HttpClient;
}

namespace stash::kube {

struct ClientOptions {
  std::string user_agent = "stash";
  std::chrono::milliseconds timeout{30000};  // per request without a byte moving
  int max_attempts = 5;
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int limit = 500;  // per page; List follows `continue` to the end
};

struct ObjectList {
  std::vector<ObjectPtr> items;
  std::string resource_version;  // where a watch picks up
};

enum class PatchType { kMerge, kJson, kStrategicMerge, kApply };

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK
  ObjectPtr object;
};

// One line of a watch stream: {"type": ..., "object": {...}}. ERROR events
// come back with the Status as their object; kCorrupt when the line is not
// an event.
Result<WatchEvent> ParseWatchEvent(std::string_view line, const std::string& what);

// Why a watch ended without an error.
enum class WatchEnd {
  kClosed,     // the server ended it (timeoutSeconds): watch again from the last version
  kExpired,    // 410 Gone: the version is too old, list again
  kCancelled,  // `cancel` turned true or the handler returned false
};

class Client {
 public:
  static Result<std::unique_ptr<Client>> Create(ClusterAccess access, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The namespace the kubeconfig's context or the pod names ("default").
  const std::string& default_namespace() const { return default_ns_; }
  const std::string& server() const { return access_.server; }

  Result<ObjectPtr> Get(const Resource& r, const std::string& ns, const std::string& name);
  Result<ObjectList> List(const Resource& r, const std::string& ns, const ListOptions& options = {});
  Result<ObjectPtr> Create(const Resource& r, const std::string& ns, const std::string& json);
  // PUT of the whole object; its metadata.resourceVersion makes it
  // conditional (409 Conflict when someone changed it in between).
  Result<ObjectPtr> Update(const Resource& r, const std::string& ns, const std::string& json);
  Result<ObjectPtr> UpdateStatus(const Resource& r, const std::string& ns, const std::string& json);
  Result<ObjectPtr> Patch(const Resource& r, const std::string& ns, const std::string& name,
                          PatchType type, const std::string& patch, const std::string& subresource = "");
  // Server-side apply of `json` (a full object in apply configuration form)
  // as `field_manager`, taking over conflicting fields when `force`.
  Result<ObjectPtr> Apply(const Resource& r, const std::string& ns, const std::string& name,
                          const std::string& json, const std::string& field_manager, bool force = true);
  // Deletes; with `uid` only that incarnation (a precondition). Not found
  // counts as done when `missing_ok`.
  Status Delete(const Resource& r, const std::string& ns, const std::string& name,
                const std::string& uid = "", bool missing_ok = true);

  // Reads the object, lets `mutate` change a copy, and PUTs it (to the
  // status subresource when `status`); on 409 Conflict reads again and
  // repeats, up to 5 times. `mutate` returning false means nothing to do.
  Result<ObjectPtr> Modify(const Resource& r, const std::string& ns, const std::string& name,
                           const std::function<bool(rapidjson::Document&)>& mutate, bool status = false);

  // Watches from `resource_version`, handing each event to `on_event`
  // (return false to stop). Bookmarks are asked for and passed on.
  Result<WatchEnd> Watch(const Resource& r, const std::string& ns, const ListOptions& options,
                         const std::string& resource_version, std::chrono::seconds server_timeout,
                         const std::function<bool(const WatchEvent&)>& on_event,
                         const std::atomic<bool>* cancel);

  // A raw request for what the typed calls do not cover; the body of a
  // 2xx answer, else the Status error.
  Result<std::string> Request(const std::string& method, const std::string& path,
                              const std::string& body = "", const std::string& content_type = "");

 private:
  Client(ClusterAccess access, std::string base_path, std::unique_ptr<http::HttpClient> http,
         ClientOptions options);
  Result<ObjectPtr> SendObject(const std::string& method, const std::string& path,
                               const std::string& body, const std::string& content_type);

  ClusterAccess access_;
  std::string base_path_;  // a server URL's own path ("" or "/k8s")
  std::string default_ns_;
  std::unique_ptr<http::HttpClient> http_;
  ClientOptions options_;
  Credentials credentials_;
};

// The reason word of an error made from a Status ("AlreadyExists",
// "Conflict", "NotFound", "Forbidden", "Expired"); "" for other errors.
std::string Reason(const Error& error);

// Percent-encodes a query parameter value.
std::string QueryEscape(std::string_view value);

}  // namespace stash::kube
