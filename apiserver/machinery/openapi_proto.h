// The Swagger 2.0 document in protobuf: gnostic's openapi.v2.Document
// message, which kubectl asks /openapi/v2 for (Accept
// application/com.github.proto-openapi.spec.v2@v1.0+protobuf) before it
// validates a manifest for create, apply or replace, and for `kubectl
// explain --output=plaintext-openapiv2`. kubectl only reads protobuf there:
// JSON fails to parse and 404 or 406 stop it with "failed to download
// openapi".
//
// The protobuf is converted from the JSON document we serve, so the two
// never disagree. Vendor extensions (x-kubernetes-group-version-kind) become
// NamedAny values holding YAML, as gnostic writes them; JSON is valid YAML,
// written here in flow style. A member the encoder has no field for is an
// error naming it, never silently dropped.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace stash::apiserver {

// kInvalid naming the member (as a path like paths./x.get.parameters[0].in)
// when the document uses something the encoder does not know.
Result<std::string> OpenApiV2Protobuf(std::string_view swagger_json);

}  // namespace stash::apiserver
