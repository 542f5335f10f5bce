#include "apiserver/machinery/request_info.h"

#include <cctype>
#include <vector>

#include "base/string_util.h"

namespace stash::apiserver {
namespace {

std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool IsWatchParam(const Query& query) {
  auto w = query.Get("watch");
  return w && (*w == "true" || *w == "1");
}

std::string VerbFor(const std::string& method, bool has_name, bool watch) {
  if (method == "GET" || method == "HEAD") {
    if (watch) return "watch";
    return has_name ? "get" : "list";
  }
  if (method == "DELETE") return has_name ? "delete" : "deletecollection";
  if (method == "POST") return "create";
  if (method == "PUT") return "update";
  if (method == "PATCH") return "patch";
  return AsciiLower(method);
}

// "metadata.name=x" (or ==) as the only name a list or watch asks about.
std::string NameFromFieldSelector(const Query& query) {
  auto fs = query.Get("fieldSelector");
  if (!fs) return "";
  for (const char* prefix : {"metadata.name==", "metadata.name="}) {
    std::string p = prefix;
    if (fs->rfind(p, 0) == 0 && fs->find(',') == std::string::npos) return fs->substr(p.size());
  }
  return "";
}

}  // namespace

RequestInfo ParseRequestInfo(const std::string& method, const std::string& path, const Query& query) {
  RequestInfo info;
  info.path = path;
  info.verb = AsciiLower(method);
  auto parts = Segments(path);
  // /apis, /apis/<group> and /apis/<group>/<version> are discovery.
  if (parts.size() < 4 || parts[0] != "apis") return info;
  info.is_resource_request = true;
  info.api_group = parts[1];
  info.api_version = parts[2];
  parts.erase(parts.begin(), parts.begin() + 3);
  if (parts[0] == "watch") {
    info.legacy_watch_path = true;
    parts.erase(parts.begin());
  }
  if (!parts.empty() && parts[0] == "namespaces") {
    if (parts.size() > 1) info.ns = parts[1];
    if (parts.size() > 2) {
      parts.erase(parts.begin(), parts.begin() + 2);
    } else {
      parts = {"namespaces"};
      if (!info.ns.empty()) parts.push_back(info.ns), info.ns.clear();
    }
  }
  if (!parts.empty()) info.resource = parts[0];
  if (parts.size() > 1) info.name = parts[1], info.name_from_path = true;
  if (parts.size() > 2) info.subresource = parts[2];
  bool watch = info.legacy_watch_path || IsWatchParam(query);
  info.verb = VerbFor(method, info.name_from_path, watch && (method == "GET" || method == "HEAD"));
  if ((info.verb == "list" || info.verb == "watch") && info.name.empty()) {
    info.name = NameFromFieldSelector(query);
  }
  return info;
}

}  // namespace stash::apiserver
