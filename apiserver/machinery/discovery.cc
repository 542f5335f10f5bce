#include "apiserver/machinery/discovery.h"

#include <algorithm>

#include "base/version.h"
#include "base/json_out.h"

namespace stash::apiserver {
namespace {

// Part `index` of a dotted version: "0.1.0" -> "0", "1", "0".
std::string VersionPart(const std::string& version, int index) {
  size_t start = 0;
  for (int i = 0; i < index && start != std::string::npos; ++i) {
    start = version.find('.', start);
    if (start != std::string::npos) ++start;
  }
  if (start == std::string::npos) return "";
  return version.substr(start, version.find('.', start) - start);
}

void WriteGroupVersion(JsonOut& out, const std::string& group, const std::string& version) {
  out.Open().Field("groupVersion", group + "/" + version).Field("version", version).Close();
}

void WriteGroupBody(JsonOut& out, const std::string& group, const std::vector<std::string>& versions) {
  out.Field("name", group).Key("versions").OpenArray();
  for (const auto& v : versions) WriteGroupVersion(out, group, v);
  out.CloseArray().Key("preferredVersion");
  WriteGroupVersion(out, group, versions.front());
}

void WriteResource(JsonOut& out, const ResourceInfo& r) {
  out.Open().Field("name", r.plural).Field("singularName", r.singular);
  out.FieldBool("namespaced", r.namespaced).Field("kind", r.kind).FieldStrings("verbs", r.verbs);
  if (!r.short_names.empty()) out.FieldStrings("shortNames", r.short_names);
  if (!r.categories.empty()) out.FieldStrings("categories", r.categories);
  out.Close();
}

void WriteAggregatedResource(JsonOut& out, const ResourceInfo& r) {
  out.Open().Field("resource", r.plural);
  out.Key("responseKind").Open().Field("group", r.group).Field("version", r.version);
  out.Field("kind", r.kind).Close();
  out.Field("scope", r.namespaced ? "Namespaced" : "Cluster").Field("singularResource", r.singular);
  out.FieldStrings("verbs", r.verbs);
  if (!r.short_names.empty()) out.FieldStrings("shortNames", r.short_names);
  if (!r.categories.empty()) out.FieldStrings("categories", r.categories);
  out.Close();
}

}  // namespace

Discovery::Discovery(std::vector<ResourceInfo> resources) : resources_(std::move(resources)) {}

std::vector<std::string> Discovery::Groups() const {
  std::vector<std::string> out;
  for (const auto& r : resources_) {
    if (std::find(out.begin(), out.end(), r.group) == out.end()) out.push_back(r.group);
  }
  return out;
}

std::vector<std::string> Discovery::Versions(const std::string& group) const {
  std::vector<std::string> out;
  for (const auto& r : resources_) {
    if (r.group == group && std::find(out.begin(), out.end(), r.version) == out.end()) {
      out.push_back(r.version);
    }
  }
  return out;
}

const ResourceInfo* Discovery::Find(const std::string& group, const std::string& version,
                                    const std::string& plural) const {
  for (const auto& r : resources_) {
    if (r.group == group && r.version == version && r.plural == plural) return &r;
  }
  return nullptr;
}

std::string Discovery::GroupList() const {
  JsonOut out;
  out.Open().Field("kind", "APIGroupList").Field("apiVersion", "v1").Key("groups").OpenArray();
  for (const auto& g : Groups()) {
    out.Open();
    WriteGroupBody(out, g, Versions(g));
    out.Close();
  }
  out.CloseArray().Close();
  return out.Take();
}

std::optional<std::string> Discovery::Group(const std::string& group) const {
  auto versions = Versions(group);
  if (versions.empty()) return std::nullopt;
  JsonOut out;
  out.Open().Field("kind", "APIGroup").Field("apiVersion", "v1");
  WriteGroupBody(out, group, versions);
  out.Close();
  return out.Take();
}

std::optional<std::string> Discovery::ResourceList(const std::string& group,
                                                   const std::string& version) const {
  auto versions = Versions(group);
  if (std::find(versions.begin(), versions.end(), version) == versions.end()) return std::nullopt;
  JsonOut out;
  out.Open().Field("kind", "APIResourceList").Field("apiVersion", "v1");
  out.Field("groupVersion", group + "/" + version).Key("resources").OpenArray();
  for (const auto& r : resources_) {
    if (r.group == group && r.version == version) WriteResource(out, r);
  }
  out.CloseArray().Close();
  return out.Take();
}

std::string Discovery::Aggregated(const std::string& version) const {
  JsonOut out;
  out.Open().Field("kind", "APIGroupDiscoveryList").Field("apiVersion", "apidiscovery.k8s.io/" + version);
  out.Key("metadata").Open().Close().Key("items").OpenArray();
  for (const auto& g : Groups()) {
    out.Open().Key("metadata").Open().Field("name", g).Key("creationTimestamp").Null().Close();
    out.Key("versions").OpenArray();
    for (const auto& v : Versions(g)) {
      out.Open().Field("version", v).Key("resources").OpenArray();
      for (const auto& r : resources_) {
        if (r.group == g && r.version == v) WriteAggregatedResource(out, r);
      }
      out.CloseArray().Field("freshness", "Current").Close();
    }
    out.CloseArray().Close();
  }
  out.CloseArray().Close();
  return out.Take();
}

std::string Discovery::EmptyAggregated(const std::string& version) {
  JsonOut out;
  out.Open().Field("kind", "APIGroupDiscoveryList").Field("apiVersion", "apidiscovery.k8s.io/" + version);
  out.Key("metadata").Open().Close().Key("items").OpenArray().CloseArray().Close();
  return out.Take();
}

std::string VersionJson() {
  // Kubernetes' version.Info: major and minor as strings, gitVersion "v<semver>".
  JsonOut out;
  out.Open().Field("major", VersionPart(STASH_VERSION, 0)).Field("minor", VersionPart(STASH_VERSION, 1));
  out.Field("gitVersion", std::string("v") + STASH_VERSION);
  out.Field("gitCommit", "").Field("gitTreeState", "").Field("buildDate", "");
#if defined(__aarch64__)
  const char* platform = "linux/arm64";
#else
  const char* platform = "linux/amd64";
#endif
#if defined(__clang__)
  const char* compiler = "clang";
#else
  const char* compiler = "gcc";
#endif
  out.Field("goVersion", "").Field("compiler", compiler).Field("platform", platform).Close();
  return out.Take();
}

}  // namespace stash::apiserver
