// Content negotiation: which representation an Accept header asks for
// (a comma-separated list with q-values). Entries are tried in order; protobuf, CBOR and
// YAML are skipped since we only speak JSON, except for the OpenAPI v2
// document, which kubectl reads only as protobuf.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stash::apiserver {

enum class Representation {
  kJson,              // the object, list or document itself
  kTable,             // meta.k8s.io Table
  kPartialMetadata,   // meta.k8s.io PartialObjectMetadata(List)
  kDiscoveryV2,       // apidiscovery.k8s.io/v2 APIGroupDiscoveryList
  kDiscoveryV2Beta1,  // apidiscovery.k8s.io/v2beta1
  kOpenApiProtobuf,   // application/com.github.proto-openapi.spec.v2.v1.0+protobuf
};

struct MediaChoice {
  Representation representation = Representation::kJson;
  std::string version;       // of Table / PartialObjectMetadata: "v1" or "v1beta1"
  std::string content_type;  // for the response
};

struct MediaRange {
  std::string type;  // "application/json", "*/*", ...
  std::map<std::string, std::string> params;
};

// Splits an Accept header into media ranges (order kept, q ignored).
std::vector<MediaRange> ParseAccept(std::string_view accept);

// The first acceptable entry among `allowed`; nullopt means 406. An empty
// Accept header is JSON.
std::optional<MediaChoice> Negotiate(std::string_view accept,
                                     const std::vector<Representation>& allowed);

}  // namespace stash::apiserver
