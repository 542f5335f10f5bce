// RequestInfo: what a request path asks for, in Kubernetes terms (the
// attributes authorization sees: verb, namespace, resource, name), parsed
// as k8s.io/apiserver's RequestInfoFactory does for /apis/... paths.
#pragma once

#include <string>

#include "apiserver/machinery/server_types.h"

namespace stash::apiserver {

struct RequestInfo {
  bool is_resource_request = false;
  std::string path;
  // Resource requests: get, list, watch, delete, deletecollection, create,
  // update, patch. Others: the lower-case method ("get", "post").
  std::string verb;
  std::string api_group, api_version;
  std::string ns;  // "" for all namespaces
  std::string resource, subresource;
  std::string name;  // also set from fieldSelector metadata.name=X on list/watch
  bool legacy_watch_path = false;  // /apis/<g>/<v>/watch/...
  bool name_from_path = false;     // name is a path segment (an item request)
};

RequestInfo ParseRequestInfo(const std::string& method, const std::string& path, const Query& query);

}  // namespace stash::apiserver
