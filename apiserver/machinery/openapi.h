// OpenAPI documents for the served resources:
// Swagger 2.0 at /openapi/v2 (the aggregator merges it; kubectl reads it
// as protobuf to validate manifests) and OpenAPI 3.0 at
// /openapi/v3 (an index) and /openapi/v3/apis/<group>/<version>, which is
// what `kubectl explain` reads. Schemas and operations carry
// x-kubernetes-group-version-kind so kubectl can map them to the resource.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "apiserver/machinery/resource.h"
#include "base/result.h"

namespace stash::apiserver {

struct ServedResource {
  ResourceInfo info;
  std::vector<SchemaField> fields;  // members besides apiVersion, kind, metadata
};

class OpenApi {
 public:
  explicit OpenApi(const std::vector<ServedResource>& resources);

  const std::string& V2() const { return v2_; }
  // V2() as gnostic's openapi.v2.Document protobuf (openapi_proto.h).
  const Result<std::string>& V2Protobuf() const { return v2_protobuf_; }
  const std::string& V3Index() const { return v3_index_; }
  // The document of "<group>/<version>", or nullptr.
  const std::string* V3(const std::string& group_version) const;
  // Its content hash, as the index puts it in ?hash=.
  std::string V3Hash(const std::string& group_version) const;

 private:
  std::string v2_, v3_index_;
  Result<std::string> v2_protobuf_ = std::string();
  std::map<std::string, std::pair<std::string, std::string>> v3_;  // gv -> (doc, hash)
};

// "repositories.stash.appscode.com" -> "com.appscode.stash.repositories".
std::string ReverseDomain(const std::string& group);

}  // namespace stash::apiserver
