#include "apiserver/machinery/openapi_proto.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <functional>
#include <optional>
#include <vector>

#include "apiserver/machinery/proto_writer.h"

namespace stash::apiserver {
namespace {

using rapidjson::Value;

// How a member that is not itself a message maps to a field.
enum class Shape {
  kString,   // string
  kBool,     // bool
  kStrings,  // repeated string
  kAny,      // openapi.v2.Any
  kAnys,     // repeated openapi.v2.Any
};
struct Plain {
  const char* name;
  Shape shape;
  int field;
};

std::string Str(const Value& v) { return std::string(v.GetString(), v.GetStringLength()); }

// YAML flow text of a JSON value. Scalars are written as JSON writes them,
// which YAML reads the same; ", " and ": " keep every YAML parser happy.
void AppendYaml(std::string& out, const Value& v) {
  if (v.IsObject() || v.IsArray()) {
    bool object = v.IsObject();
    out += object ? '{' : '[';
    bool first = true;
    auto separate = [&] {
      if (!first) out += ", ";
      first = false;
    };
    if (object) {
      for (const auto& m : v.GetObject()) {
        separate();
        AppendYaml(out, m.name);
        out += ": ";
        AppendYaml(out, m.value);
      }
    } else {
      for (const auto& e : v.GetArray()) {
        separate();
        AppendYaml(out, e);
      }
    }
    out += object ? '}' : ']';
    return;
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  out.append(buffer.GetString(), buffer.GetSize());
}

ProtoWriter AnyOf(const Value& v) {  // openapi.v2.Any {string yaml = 2}
  std::string yaml;
  AppendYaml(yaml, v);
  ProtoWriter any;
  any.Bytes(2, yaml);
  return any;
}

ProtoWriter Named(const std::string& name, const ProtoWriter& value) {  // Named* {name = 1, value = 2}
  ProtoWriter named;
  named.Bytes(1, name).Message(2, value);
  return named;
}

// Field numbers below are those of gnostic's openapi.v2 messages.
class Encoder {
 public:
  ProtoWriter Document(const Value& v);
  const std::optional<Error>& error() const { return error_; }

 private:
  // Handles one member that is not plain; false when it is unknown.
  using Other = std::function<bool(const std::string& name, const Value& value,
                                   const std::string& where, ProtoWriter& out)>;

  ProtoWriter Object(const Value& v, const std::string& where, int extensions,
                     const std::vector<Plain>& plain, const Other& other = nullptr);
  void WritePlain(const Plain& p, const Value& v, const std::string& where, ProtoWriter& out);
  void Fail(const std::string& where, const std::string& what);

  ProtoWriter Paths(const Value& v, const std::string& where);
  ProtoWriter PathItem(const Value& v, const std::string& where);
  ProtoWriter Operation(const Value& v, const std::string& where);
  ProtoWriter ParametersItem(const Value& v, const std::string& where);
  ProtoWriter Responses(const Value& v, const std::string& where);
  ProtoWriter ResponseValue(const Value& v, const std::string& where);
  ProtoWriter Schema(const Value& v, const std::string& where);
  ProtoWriter NamedSchemas(const Value& v, const std::string& where);  // Definitions, Properties
  ProtoWriter JsonReference(const Value& v, const std::string& where);
  // Each element of array `v` (or `v` itself when it is an object) as a
  // message from `encode`, written to repeated `field`.
  void Repeated(const Value& v, const std::string& where, int field, ProtoWriter& out,
                ProtoWriter (Encoder::*encode)(const Value&, const std::string&));

  std::optional<Error> error_;
};

void Encoder::Fail(const std::string& where, const std::string& what) {
  if (!error_) error_ = Invalid("openapi v2 protobuf: " + where + ": " + what);
}

ProtoWriter Encoder::Object(const Value& v, const std::string& where, int extensions,
                            const std::vector<Plain>& plain, const Other& other) {
  ProtoWriter out;
  if (!v.IsObject()) {
    Fail(where, "not an object");
    return out;
  }
  for (const auto& m : v.GetObject()) {
    std::string name = Str(m.name), at = where + "." + name;
    if (name.rfind("x-", 0) == 0 && extensions) {
      out.Message(extensions, Named(name, AnyOf(m.value)));
      continue;
    }
    const Plain* p = nullptr;
    for (const auto& candidate : plain) {
      if (name == candidate.name) p = &candidate;
    }
    if (p) {
      WritePlain(*p, m.value, at, out);
    } else if (!other || !other(name, m.value, at, out)) {
      Fail(at, "no protobuf field for this member");
    }
  }
  return out;
}

void Encoder::WritePlain(const Plain& p, const Value& v, const std::string& where, ProtoWriter& out) {
  switch (p.shape) {
    case Shape::kString:
      if (!v.IsString()) return Fail(where, "not a string");
      out.String(p.field, Str(v));
      return;
    case Shape::kBool:
      if (!v.IsBool()) return Fail(where, "not a boolean");
      out.Bool(p.field, v.GetBool());
      return;
    case Shape::kAny:
      out.Message(p.field, AnyOf(v));
      return;
    case Shape::kStrings:
    case Shape::kAnys:
      if (!v.IsArray()) return Fail(where, "not an array");
      for (const auto& e : v.GetArray()) {
        if (p.shape == Shape::kAnys) {
          out.Message(p.field, AnyOf(e));
        } else if (!e.IsString()) {
          return Fail(where, "not an array of strings");
        } else {
          out.Bytes(p.field, Str(e));
        }
      }
      return;
  }
}

void Encoder::Repeated(const Value& v, const std::string& where, int field, ProtoWriter& out,
                       ProtoWriter (Encoder::*encode)(const Value&, const std::string&)) {
  if (!v.IsArray()) {
    out.Message(field, (this->*encode)(v, where));
    return;
  }
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    out.Message(field, (this->*encode)(v[i], where + "[" + std::to_string(i) + "]"));
  }
}

ProtoWriter Encoder::Document(const Value& v) {
  return Object(v, "document", 16,
                {{"swagger", Shape::kString, 1}, {"host", Shape::kString, 3},
                 {"basePath", Shape::kString, 4}, {"schemes", Shape::kStrings, 5},
                 {"consumes", Shape::kStrings, 6}, {"produces", Shape::kStrings, 7}},
                [this](const std::string& name, const Value& value, const std::string& at, ProtoWriter& out) {
                  if (name == "info") {
                    out.Message(2, Object(value, at, 7,
                                          {{"title", Shape::kString, 1}, {"version", Shape::kString, 2},
                                           {"description", Shape::kString, 3},
                                           {"termsOfService", Shape::kString, 4}}));
                  } else if (name == "paths") {
                    out.Message(8, Paths(value, at));
                  } else if (name == "definitions") {
                    out.Message(9, NamedSchemas(value, at));
                  } else {
                    return false;
                  }
                  return true;
                });
}

ProtoWriter Encoder::Paths(const Value& v, const std::string& where) {
  return Object(v, where, 1, {}, [this](const std::string& name, const Value& value, const std::string& at,
                                        ProtoWriter& out) {
    out.Message(2, Named(name, PathItem(value, at)));
    return true;
  });
}

ProtoWriter Encoder::PathItem(const Value& v, const std::string& where) {
  static const char* const kMethods[] = {"get", "put", "post", "delete", "options", "head", "patch"};
  return Object(v, where, 10, {{"$ref", Shape::kString, 1}},
                [this](const std::string& name, const Value& value, const std::string& at, ProtoWriter& out) {
                  for (int i = 0; i < 7; ++i) {
                    if (name == kMethods[i]) {
                      out.Message(2 + i, Operation(value, at));
                      return true;
                    }
                  }
                  if (name != "parameters") return false;
                  Repeated(value, at, 9, out, &Encoder::ParametersItem);
                  return true;
                });
}

ProtoWriter Encoder::Operation(const Value& v, const std::string& where) {
  return Object(v, where, 13,
                {{"tags", Shape::kStrings, 1}, {"summary", Shape::kString, 2},
                 {"description", Shape::kString, 3}, {"operationId", Shape::kString, 5},
                 {"produces", Shape::kStrings, 6}, {"consumes", Shape::kStrings, 7},
                 {"schemes", Shape::kStrings, 10}, {"deprecated", Shape::kBool, 11}},
                [this](const std::string& name, const Value& value, const std::string& at, ProtoWriter& out) {
                  if (name == "parameters") {
                    Repeated(value, at, 8, out, &Encoder::ParametersItem);
                  } else if (name == "responses") {
                    out.Message(9, Responses(value, at));
                  } else {
                    return false;
                  }
                  return true;
                });
}

ProtoWriter Encoder::JsonReference(const Value& v, const std::string& where) {
  return Object(v, where, 0, {{"$ref", Shape::kString, 1}, {"description", Shape::kString, 2}});
}

// ParametersItem {Parameter parameter = 1 | JsonReference = 2}; Parameter
// {BodyParameter = 1 | NonBodyParameter = 2}; NonBodyParameter {header = 1,
// formData = 2, query = 3, path = 4}. Header and path sub-schemas number
// their fields one lower than query and formData from `type` on, having no
// allowEmptyValue.
ProtoWriter Encoder::ParametersItem(const Value& v, const std::string& where) {
  ProtoWriter item, parameter;
  if (v.IsObject() && v.HasMember("$ref")) return std::move(item.Message(2, JsonReference(v, where)));
  std::string in = v.IsObject() && v.HasMember("in") && v["in"].IsString() ? Str(v["in"]) : "";
  if (in == "body") {
    parameter.Message(1, Object(v, where, 6,
                                {{"description", Shape::kString, 1}, {"name", Shape::kString, 2},
                                 {"in", Shape::kString, 3}, {"required", Shape::kBool, 4}},
                                [this](const std::string& name, const Value& value, const std::string& at,
                                       ProtoWriter& out) {
                                  if (name != "schema") return false;
                                  out.Message(5, Schema(value, at));
                                  return true;
                                }));
    return std::move(item.Message(1, parameter));
  }
  static const char* const kLocations[] = {"header", "formData", "query", "path"};
  int location = 0;
  for (int i = 0; i < 4; ++i) {
    if (in == kLocations[i]) location = i + 1;
  }
  if (!location) {
    Fail(where + ".in", "not body, header, formData, query or path");
    return item;
  }
  int shift = (location == 2 || location == 3) ? 0 : -1;
  std::vector<Plain> plain = {
      {"required", Shape::kBool, 1},          {"in", Shape::kString, 2},
      {"description", Shape::kString, 3},     {"name", Shape::kString, 4},
      {"type", Shape::kString, 6 + shift},    {"format", Shape::kString, 7 + shift},
      {"collectionFormat", Shape::kString, 9 + shift}, {"default", Shape::kAny, 10 + shift},
      {"pattern", Shape::kString, 17 + shift}, {"uniqueItems", Shape::kBool, 20 + shift},
      {"enum", Shape::kAnys, 21 + shift}};
  if (shift == 0) plain.push_back({"allowEmptyValue", Shape::kBool, 5});
  ProtoWriter non_body;
  non_body.Message(location, Object(v, where, 23 + shift, plain));
  parameter.Message(2, non_body);
  return std::move(item.Message(1, parameter));
}

ProtoWriter Encoder::Responses(const Value& v, const std::string& where) {
  return Object(v, where, 2, {}, [this](const std::string& name, const Value& value, const std::string& at,
                                        ProtoWriter& out) {
    out.Message(1, Named(name, ResponseValue(value, at)));
    return true;
  });
}

// ResponseValue {Response response = 1 | JsonReference = 2}; a Response's
// schema is a SchemaItem {Schema schema = 1}.
ProtoWriter Encoder::ResponseValue(const Value& v, const std::string& where) {
  ProtoWriter value;
  if (v.IsObject() && v.HasMember("$ref")) return std::move(value.Message(2, JsonReference(v, where)));
  ProtoWriter response = Object(v, where, 5, {{"description", Shape::kString, 1}},
                                [this](const std::string& name, const Value& member, const std::string& at,
                                       ProtoWriter& out) {
                                  if (name != "schema") return false;
                                  ProtoWriter schema_item;
                                  schema_item.Message(1, Schema(member, at));
                                  out.Message(2, schema_item);
                                  return true;
                                });
  return std::move(value.Message(1, response));
}

ProtoWriter Encoder::NamedSchemas(const Value& v, const std::string& where) {
  return Object(v, where, 0, {}, [this](const std::string& name, const Value& value, const std::string& at,
                                        ProtoWriter& out) {
    out.Message(1, Named(name, Schema(value, at)));
    return true;
  });
}

ProtoWriter Encoder::Schema(const Value& v, const std::string& where) {
  return Object(
      v, where, 31,
      {{"$ref", Shape::kString, 1}, {"format", Shape::kString, 2}, {"title", Shape::kString, 3},
       {"description", Shape::kString, 4}, {"default", Shape::kAny, 5}, {"pattern", Shape::kString, 13},
       {"uniqueItems", Shape::kBool, 16}, {"required", Shape::kStrings, 19}, {"enum", Shape::kAnys, 20},
       {"discriminator", Shape::kString, 26}, {"readOnly", Shape::kBool, 27}, {"example", Shape::kAny, 30}},
      [this](const std::string& name, const Value& value, const std::string& at, ProtoWriter& out) {
        if (name == "type") {  // TypeItem {repeated string value = 1}
          ProtoWriter type;
          if (value.IsString()) {
            type.Bytes(1, Str(value));
          } else {
            WritePlain({"type", Shape::kStrings, 1}, value, at, type);
          }
          out.Message(22, type);
        } else if (name == "items") {  // ItemsItem {repeated Schema schema = 1}
          ProtoWriter items;
          Repeated(value, at, 1, items, &Encoder::Schema);
          out.Message(23, items);
        } else if (name == "additionalProperties") {  // {Schema schema = 1 | bool boolean = 2}
          ProtoWriter additional;
          if (value.IsBool()) {
            additional.Bool(2, value.GetBool(), true);
          } else {
            additional.Message(1, Schema(value, at));
          }
          out.Message(21, additional);
        } else if (name == "allOf") {
          if (!value.IsArray()) Fail(at, "not an array");
          Repeated(value, at, 24, out, &Encoder::Schema);
        } else if (name == "properties") {
          out.Message(25, NamedSchemas(value, at));
        } else {
          return false;
        }
        return true;
      });
}

}  // namespace

Result<std::string> OpenApiV2Protobuf(std::string_view swagger_json) {
  rapidjson::Document doc;
  doc.Parse(swagger_json.data(), swagger_json.size());
  if (doc.HasParseError()) {
    return Invalid(std::string("openapi v2 protobuf: the JSON document does not parse (") +
                   rapidjson::GetParseError_En(doc.GetParseError()) + ")");
  }
  Encoder encoder;
  ProtoWriter out = encoder.Document(doc);
  if (encoder.error()) return *encoder.error();
  return out.Take();
}

}  // namespace stash::apiserver
