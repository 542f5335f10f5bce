// The OpenAPI v2 document as protobuf, which kubectl reads before create,
// apply and replace: the wire format, gnostic's field numbers for what our
// document holds, the Accept negotiation of /openapi/v2, and errors for
// members the encoder has no field for.
#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <map>
#include <string>
#include <vector>

#include "apiserver/machinery/negotiate.h"
#include "apiserver/machinery/openapi.h"
#include "apiserver/machinery/openapi_proto.h"
#include "apiserver/machinery/proto_writer.h"
#include "apiserver/snapshots/snapshot_object.h"
#include "base/version.h"

using namespace stash;
using namespace stash::apiserver;

namespace {

// A decoded message: each field number's values in order (varints as
// decimal text, length-delimited fields as their bytes).
using Fields = std::multimap<int, std::string>;

uint64_t ReadVarint(const std::string& in, size_t& pos) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    REQUIRE(pos < in.size());
    auto b = static_cast<unsigned char>(in[pos++]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  FAIL("varint longer than 10 bytes");
  return 0;
}

Fields Decode(const std::string& in) {
  Fields out;
  size_t pos = 0;
  while (pos < in.size()) {
    uint64_t tag = ReadVarint(in, pos);
    int field = static_cast<int>(tag >> 3), wire = static_cast<int>(tag & 7);
    REQUIRE(field > 0);
    if (wire == 0) {
      out.emplace(field, std::to_string(ReadVarint(in, pos)));
    } else {
      REQUIRE(wire == 2);  // nothing else is written
      uint64_t n = ReadVarint(in, pos);
      REQUIRE(n <= in.size() - pos);
      out.emplace(field, in.substr(pos, n));
      pos += n;
    }
  }
  return out;
}

std::vector<std::string> All(const Fields& f, int field) {
  std::vector<std::string> out;
  for (auto [it, end] = f.equal_range(field); it != end; ++it) out.push_back(it->second);
  return out;
}

std::string One(const Fields& f, int field) {
  auto all = All(f, field);
  REQUIRE(all.size() == 1);
  return all[0];
}

// The value of the Named* entry called `name` in repeated `field`.
std::string NamedValue(const Fields& f, int field, const std::string& name) {
  for (const auto& entry : All(f, field)) {
    Fields named = Decode(entry);
    if (One(named, 1) == name) return One(named, 2);
  }
  FAIL("no entry named " << name);
  return "";
}

// The YAML of vendor extension `name` among repeated NamedAny `field`.
std::string Extension(const Fields& f, int field, const std::string& name) {
  return One(Decode(NamedValue(f, field, name)), 2);
}

const std::string kGvk =
    "{\"group\": \"repositories.stash.appscode.com\", \"kind\": \"Snapshot\", \"version\": \"v1alpha1\"}";

}  // namespace

TEST_CASE("protobuf wire format: tags, lengths, zero values") {
  ProtoWriter w;
  w.String(1, "2.0").String(3, "").Bool(4, false).Bool(5, true).Bool(6, false, true);
  w.Bytes(7, "").String(2047, std::string(200, 'x'));
  std::string want = std::string("\x0a\x03" "2.0" "\x28\x01" "\x30\x00" "\x3a\x00", 11) + "\xfa\x7f\xc8\x01" +
                     std::string(200, 'x');
  CHECK(w.bytes() == want);

  auto tiny = OpenApiV2Protobuf(R"({"swagger":"2.0","info":{"title":"t","version":"v"}})");
  REQUIRE(tiny.ok());
  CHECK(*tiny == std::string("\x0a\x03" "2.0" "\x12\x06\x0a\x01t\x12\x01v"));
}

TEST_CASE("the served OpenAPI v2 document in gnostic's protobuf") {
  OpenApi api({{SnapshotResourceInfo(), SnapshotSchema()}});
  REQUIRE(api.V2Protobuf().ok());
  Fields doc = Decode(*api.V2Protobuf());
  CHECK(One(doc, 1) == "2.0");
  Fields info = Decode(One(doc, 2));
  CHECK(One(info, 1) == "stash");
  CHECK(One(info, 2) == std::string("v") + STASH_VERSION);

  rapidjson::Document json;
  json.Parse(api.V2().c_str());
  REQUIRE(json.IsObject());
  Fields paths = Decode(One(doc, 8));
  CHECK(All(paths, 2).size() == json["paths"].MemberCount());
  const std::string base = "/apis/repositories.stash.appscode.com/v1alpha1";

  // Item path: GET with its operation id and group-version-kind; the path
  // parameters as PathParameterSubSchema (ParametersItem 1 > Parameter 2 >
  // NonBodyParameter 4).
  Fields item = Decode(NamedValue(paths, 2, base + "/namespaces/{namespace}/snapshots/{name}"));
  Fields get = Decode(One(item, 2));
  CHECK(One(get, 5) == "readRepositoriesStashAppscodeComV1alpha1NamespacedSnapshot");
  CHECK(Extension(get, 13, "x-kubernetes-group-version-kind") == kGvk);
  CHECK(Extension(get, 13, "x-kubernetes-action") == "\"get\"");
  CHECK(All(item, 5).size() == 1);  // delete
  CHECK(All(item, 3).empty());      // no put, post or patch
  CHECK(All(item, 4).empty());
  CHECK(All(item, 8).empty());
  auto params = All(item, 9);
  REQUIRE(params.size() == 2);
  Fields name = Decode(One(Decode(One(Decode(One(Decode(params[0]), 1)), 2)), 4));
  CHECK(One(name, 4) == "name");
  CHECK(One(name, 2) == "path");
  CHECK(One(name, 1) == "1");
  CHECK(One(name, 5) == "string");
  // Its 200 response: Responses 1 > ResponseValue 1 > Response 2 > SchemaItem 1 > Schema.
  Fields ok = Decode(One(Decode(NamedValue(Decode(One(get, 9)), 1, "200")), 1));
  CHECK(One(ok, 1) == "OK");
  CHECK(One(Decode(One(Decode(One(ok, 2)), 1)), 1) ==
        "#/definitions/com.appscode.stash.repositories.v1alpha1.Snapshot");

  // List: query parameters as QueryParameterSubSchema (NonBodyParameter 3).
  Fields list = Decode(One(Decode(NamedValue(paths, 2, base + "/snapshots")), 2));
  auto query = All(list, 8);
  REQUIRE_FALSE(query.empty());
  Fields selector = Decode(One(Decode(One(Decode(One(Decode(query[0]), 1)), 2)), 3));
  CHECK(One(selector, 4) == "labelSelector");
  CHECK(One(selector, 2) == "query");
  CHECK(One(selector, 6) == "string");

  // Definitions: the kind with its group-version-kind list and properties.
  Fields definitions = Decode(One(doc, 9));
  CHECK(All(definitions, 1).size() == json["definitions"].MemberCount());
  Fields snapshot = Decode(NamedValue(definitions, 1, "com.appscode.stash.repositories.v1alpha1.Snapshot"));
  CHECK(One(Decode(One(snapshot, 22)), 1) == "object");
  CHECK(Extension(snapshot, 31, "x-kubernetes-group-version-kind") == "[" + kGvk + "]");
  Fields properties = Decode(One(snapshot, 25));
  CHECK(One(Decode(NamedValue(properties, 1, "metadata")), 1) ==
        "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  Fields status = Decode(One(Decode(NamedValue(properties, 1, "status")), 25));
  CHECK(One(Decode(One(Decode(NamedValue(status, 1, "hostname")), 22)), 1) == "string");
  Fields paths_field = Decode(NamedValue(status, 1, "paths"));
  Fields items = Decode(One(Decode(One(paths_field, 23)), 1));  // ItemsItem 1 > Schema
  CHECK(One(Decode(One(items, 22)), 1) == "string");
  CHECK(One(Decode(One(items, 5)), 2) == "\"\"");  // default: Any's YAML
  Fields labels = Decode(NamedValue(Decode(One(Decode(NamedValue(definitions, 1,
      "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")), 25)), 1, "labels"));
  Fields additional = Decode(One(labels, 21));  // AdditionalPropertiesItem 1 > Schema
  CHECK(One(Decode(One(Decode(One(additional, 1)), 22)), 1) == "string");
}

TEST_CASE("OpenAPI v2 protobuf: what has no field is an error naming it") {
  auto unknown = OpenApiV2Protobuf(R"({"swagger":"2.0","securityDefinitions":{}})");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().kind() == ErrorKind::kInvalid);
  CHECK(unknown.error().message().find("document.securityDefinitions") != std::string::npos);
  auto deep = OpenApiV2Protobuf(R"({"definitions":{"A":{"properties":{"b":{"maxLength":3}}}}})");
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.error().message().find("document.definitions.A.properties.b.maxLength") != std::string::npos);
  auto location = OpenApiV2Protobuf(R"({"paths":{"/x":{"get":{"parameters":[{"name":"a","in":"cookie"}]}}}})");
  REQUIRE_FALSE(location.ok());
  CHECK(location.error().message().find("paths./x.get.parameters[0].in") != std::string::npos);
  CHECK_FALSE(OpenApiV2Protobuf(R"({"swagger":2})").ok());
  CHECK_FALSE(OpenApiV2Protobuf("{\"swagger\":").ok());
  // additionalProperties: false is a set oneof member: written although false.
  auto closed = OpenApiV2Protobuf(R"({"definitions":{"A":{"additionalProperties":false}}})");
  REQUIRE(closed.ok());
  Fields a = Decode(NamedValue(Decode(One(Decode(*closed), 9)), 1, "A"));
  CHECK(One(Decode(One(a, 21)), 2) == "0");
  // Body parameters and references.
  auto body = OpenApiV2Protobuf(
      R"({"paths":{"/x":{"post":{"parameters":[{"name":"b","in":"body","required":true,"schema":{"$ref":"#/definitions/B"}},{"$ref":"#/parameters/p"}]}}}})");
  REQUIRE(body.ok());
  auto post = All(Decode(One(Decode(NamedValue(Decode(One(Decode(*body), 8)), 2, "/x")), 4)), 8);
  REQUIRE(post.size() == 2);
  Fields b = Decode(One(Decode(One(Decode(post[0]), 1)), 1));
  CHECK(One(b, 2) == "b");
  CHECK(One(b, 4) == "1");
  CHECK(One(Decode(One(b, 5)), 1) == "#/definitions/B");
  CHECK(One(Decode(One(Decode(post[1]), 2)), 1) == "#/parameters/p");
}

TEST_CASE("Accept negotiation for /openapi/v2") {
  const std::vector<Representation> v2 = {Representation::kJson, Representation::kOpenApiProtobuf};
  auto kubectl = Negotiate("application/com.github.proto-openapi.spec.v2@v1.0+protobuf", v2);
  REQUIRE(kubectl);
  CHECK(kubectl->representation == Representation::kOpenApiProtobuf);
  // Answered with the dotted name: Go's mime parser refuses the '@'.
  CHECK(kubectl->content_type == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
  auto dotted = Negotiate("application/com.github.proto-openapi.spec.v2.v1.0+protobuf, application/json", v2);
  REQUIRE(dotted);
  CHECK(dotted->content_type == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
  CHECK(Negotiate("application/json", v2)->representation == Representation::kJson);
  CHECK(Negotiate("", v2)->representation == Representation::kJson);
  CHECK(Negotiate("*/*", v2)->representation == Representation::kJson);
  CHECK_FALSE(Negotiate("application/vnd.kubernetes.protobuf", v2));
  // Nowhere else.
  CHECK_FALSE(Negotiate("application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
                        {Representation::kJson, Representation::kTable}));
}
