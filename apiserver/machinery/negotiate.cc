#include "apiserver/machinery/negotiate.h"

#include <algorithm>
#include <cctype>

#include "base/string_util.h"

namespace stash::apiserver {
namespace {

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    size_t p = s.find(sep);
    out.push_back(s.substr(0, p));
    if (p == std::string_view::npos) return out;
    s = s.substr(p + 1);
  }
}

bool Allowed(const std::vector<Representation>& allowed, Representation r) {
  return std::find(allowed.begin(), allowed.end(), r) != allowed.end();
}

std::string Param(const MediaRange& m, const char* key) {
  auto it = m.params.find(key);
  return it == m.params.end() ? "" : it->second;
}

// What one media range asks for, if we can give it.
std::optional<MediaChoice> Match(const MediaRange& m) {
  // kubectl still asks with '@', which is not valid in a media type (Go's
  // mime parser rejects it), so the answer names the dotted form, as
  // kube-apiserver's does.
  if (m.type == "application/com.github.proto-openapi.spec.v2@v1.0+protobuf" ||
      m.type == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf") {
    return MediaChoice{Representation::kOpenApiProtobuf, "",
                       "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"};
  }
  bool json = m.type == "application/json";
  bool any = m.type == "*/*" || m.type == "application/*";
  if (!json && !any) return std::nullopt;
  std::string as = Param(m, "as"), g = Param(m, "g"), v = Param(m, "v");
  if (as.empty()) return MediaChoice{Representation::kJson, "", "application/json"};
  if (!json) return std::nullopt;
  if (as == "Table" && g == "meta.k8s.io" && (v == "v1" || v == "v1beta1")) {
    return MediaChoice{Representation::kTable, v, "application/json"};
  }
  if ((as == "PartialObjectMetadata" || as == "PartialObjectMetadataList") && g == "meta.k8s.io" &&
      (v == "v1" || v == "v1beta1")) {
    return MediaChoice{Representation::kPartialMetadata, v, "application/json"};
  }
  if (as == "APIGroupDiscoveryList" && g == "apidiscovery.k8s.io" && (v == "v2" || v == "v2beta1")) {
    return MediaChoice{v == "v2" ? Representation::kDiscoveryV2 : Representation::kDiscoveryV2Beta1, v,
                       "application/json;g=apidiscovery.k8s.io;v=" + v + ";as=APIGroupDiscoveryList"};
  }
  return std::nullopt;
}

}  // namespace

std::vector<MediaRange> ParseAccept(std::string_view accept) {
  std::vector<MediaRange> out;
  for (auto entry : Split(accept, ',')) {
    auto parts = Split(entry, ';');
    MediaRange m;
    m.type = AsciiLower(Trim(parts[0]));
    if (m.type.empty()) continue;
    for (size_t i = 1; i < parts.size(); ++i) {
      std::string p = Trim(parts[i]);
      size_t eq = p.find('=');
      if (eq == std::string::npos) continue;
      std::string value = Trim(std::string_view(p).substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      m.params[AsciiLower(Trim(std::string_view(p).substr(0, eq)))] = value;
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<MediaChoice> Negotiate(std::string_view accept,
                                     const std::vector<Representation>& allowed) {
  auto ranges = ParseAccept(accept);
  if (ranges.empty()) return MediaChoice{Representation::kJson, "", "application/json"};
  for (const auto& m : ranges) {
    auto choice = Match(m);
    if (choice && Allowed(allowed, choice->representation)) return choice;
  }
  return std::nullopt;
}

}  // namespace stash::apiserver
