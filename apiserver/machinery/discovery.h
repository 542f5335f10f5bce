// Discovery documents kubectl and the aggregator read: the legacy APIGroupList,
// APIGroup and APIResourceList, and aggregated discovery
// (apidiscovery.k8s.io v2 and v2beta1), all built from the served
// resources. Nothing here touches storage, so discovery always answers at
// once.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "apiserver/machinery/resource.h"

namespace stash::apiserver {

class Discovery {
 public:
  explicit Discovery(std::vector<ResourceInfo> resources);

  // GET /apis without aggregated Accept.
  std::string GroupList() const;
  // GET /apis/<group>; nullopt when the group is not served.
  std::optional<std::string> Group(const std::string& group) const;
  // GET /apis/<group>/<version>.
  std::optional<std::string> ResourceList(const std::string& group, const std::string& version) const;
  // GET /apis with aggregated Accept; `version` is "v2" or "v2beta1".
  std::string Aggregated(const std::string& version) const;
  // GET /api with aggregated Accept: an extension server has no core group.
  static std::string EmptyAggregated(const std::string& version);

  const std::vector<ResourceInfo>& resources() const { return resources_; }
  // The served resource of group/version/plural, or nullptr.
  const ResourceInfo* Find(const std::string& group, const std::string& version,
                           const std::string& plural) const;

 private:
  std::vector<std::string> Groups() const;
  std::vector<std::string> Versions(const std::string& group) const;

  std::vector<ResourceInfo> resources_;
};

// GET /version: this server's build, in the shape kubectl reads.
std::string VersionJson();

}  // namespace stash::apiserver
