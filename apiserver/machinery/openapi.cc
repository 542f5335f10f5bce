#include "apiserver/machinery/openapi.h"

#include <cctype>

#include "base/json_out.h"
#include "apiserver/machinery/openapi_proto.h"
#include "base/version.h"
#include "crypto/id.h"

namespace stash::apiserver {
namespace {

const char* kObjectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const char* kListMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
const char* kStatus = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";

// The flavour being written: where references point and how operations
// describe parameters and responses.
struct Style {
  bool v3;
  std::string Ref(const std::string& name) const {
    return (v3 ? "#/components/schemas/" : "#/definitions/") + name;
  }
};

std::string Camel(const std::string& dotted) {
  std::string out;
  bool up = true;
  for (char c : dotted) {
    if (c == '.' || c == '-') {
      up = true;
      continue;
    }
    out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    up = false;
  }
  return out;
}

std::string DefinitionName(const ResourceInfo& r, const std::string& kind) {
  return ReverseDomain(r.group) + "." + r.version + "." + kind;
}

void WriteGvk(JsonOut& out, const ResourceInfo& r, const std::string& kind) {
  out.Open().Field("group", r.group).Field("kind", kind).Field("version", r.version).Close();
}

void WriteField(JsonOut& out, const SchemaField& f) {
  out.Open();
  if (!f.description.empty()) out.Field("description", f.description);
  out.Field("type", f.type);
  if (!f.format.empty()) out.Field("format", f.format);
  if (f.type == "array") {
    out.Key("items").Open().Field("type", f.items_type.empty() ? "string" : f.items_type);
    if (f.items_type.empty() || f.items_type == "string") out.Field("default", "");
    out.Close();
  }
  if (f.type == "object" && !f.properties.empty()) {
    out.Key("properties").Open();
    for (const auto& p : f.properties) {
      out.Key(p.name);
      WriteField(out, p);
    }
    out.Close();
  }
  if (f.type == "object" && f.properties.empty()) {
    out.Key("additionalProperties").Open().Field("type", "string").Field("default", "").Close();
  }
  out.Close();
}

void WriteRefProperty(JsonOut& out, const Style& s, const std::string& name,
                      const std::string& description) {
  out.Open().Field("description", description);
  if (s.v3) {
    out.Key("allOf").OpenArray().Open().Field("$ref", s.Ref(name)).Close().CloseArray();
    out.Key("default").Open().Close();
  } else {
    out.Field("$ref", s.Ref(name));
  }
  out.Close();
}

void WriteTypeMeta(JsonOut& out) {
  out.Key("apiVersion");
  WriteField(out, {"", "string", "", "", "APIVersion defines the versioned schema of this representation of an object.", {}});
  out.Key("kind");
  WriteField(out, {"", "string", "", "", "Kind is a string value representing the REST resource this object represents.", {}});
}

void WriteKindSchema(JsonOut& out, const Style& s, const ServedResource& res) {
  out.Key(DefinitionName(res.info, res.info.kind)).Open();
  out.Field("description", res.info.description).Field("type", "object").Key("properties").Open();
  WriteTypeMeta(out);
  out.Key("metadata");
  WriteRefProperty(out, s, kObjectMeta, "Standard object's metadata.");
  for (const auto& f : res.fields) {
    out.Key(f.name);
    WriteField(out, f);
  }
  out.Close().Key("x-kubernetes-group-version-kind").OpenArray();
  WriteGvk(out, res.info, res.info.kind);
  out.CloseArray().Close();
}

void WriteListSchema(JsonOut& out, const Style& s, const ServedResource& res) {
  out.Key(DefinitionName(res.info, res.info.list_kind)).Open();
  out.Field("description", res.info.list_kind + " is a list of " + res.info.kind + " objects.");
  out.Field("type", "object").FieldStrings("required", {"items"}).Key("properties").Open();
  WriteTypeMeta(out);
  out.Key("items").Open().Field("description", "Items is the list of " + res.info.kind + " objects.");
  out.Field("type", "array").Key("items").Open();
  if (s.v3) out.Key("default").Open().Close();
  out.Field("$ref", s.Ref(DefinitionName(res.info, res.info.kind))).Close().Close();
  out.Key("metadata");
  WriteRefProperty(out, s, kListMeta, "Standard list metadata.");
  out.Close().Key("x-kubernetes-group-version-kind").OpenArray();
  WriteGvk(out, res.info, res.info.list_kind);
  out.CloseArray().Close();
}

void WriteMetaSchemas(JsonOut& out) {
  SchemaField labels{"labels", "object", "", "", "Map of string keys and values that can be used to organize and categorize (scope and select) objects.", {}};
  SchemaField object_meta{"", "object", "", "", "ObjectMeta is metadata that all persisted resources must have.", {
      {"name", "string", "", "", "Name must be unique within a namespace.", {}},
      {"namespace", "string", "", "", "Namespace defines the space within which each name must be unique.", {}},
      {"uid", "string", "", "", "UID is the unique in time and space value for this object.", {}},
      {"resourceVersion", "string", "", "", "An opaque value that represents the internal version of this object.", {}},
      {"creationTimestamp", "string", "date-time", "", "CreationTimestamp is a timestamp representing the server time when this object was created.", {}},
      labels,
      {"annotations", "object", "", "", "Annotations is an unstructured key value map.", {}}}};
  SchemaField list_meta{"", "object", "", "", "ListMeta describes metadata that synthetic resources must have.", {
      {"resourceVersion", "string", "", "", "String that identifies the server's internal version of this object.", {}},
      {"continue", "string", "", "", "Set when more results are available: pass it to get the next page.", {}},
      {"remainingItemCount", "integer", "int64", "", "The number of subsequent items in the list which are not included in this list response.", {}}}};
  SchemaField status{"", "object", "", "", "Status is a return value for calls that don't return other objects.", {
      {"apiVersion", "string", "", "", "APIVersion defines the versioned schema of this representation of an object.", {}},
      {"kind", "string", "", "", "Kind is a string value representing the REST resource this object represents.", {}},
      {"status", "string", "", "", "Status of the operation: \"Success\" or \"Failure\".", {}},
      {"message", "string", "", "", "A human-readable description of the status of this operation.", {}},
      {"reason", "string", "", "", "A machine-readable description of why this operation is in the \"Failure\" status.", {}},
      {"code", "integer", "int32", "", "Suggested HTTP return code for this status.", {}}}};
  out.Key(kObjectMeta);
  WriteField(out, object_meta);
  out.Key(kListMeta);
  WriteField(out, list_meta);
  out.Key(kStatus);
  WriteField(out, status);
}

// ---- Operations ----

struct Operation {
  const char* method;  // "get", "delete"
  std::string action;  // x-kubernetes-action: list, get, delete, deletecollection
  std::string id;      // operationId
  std::string response;  // definition name of the 200 body
  std::string description;
};

void WriteParameter(JsonOut& out, const Style& s, const char* name, const char* in,
                    const char* type, const char* description) {
  out.Open().Field("name", name).Field("in", in).Field("description", description);
  if (std::string(in) == "path") out.FieldBool("required", true);
  if (s.v3) {
    out.Key("schema").Open().Field("type", type).Close();
  } else {
    out.Field("type", type);
  }
  out.Close();
}

void WriteListParameters(JsonOut& out, const Style& s) {
  WriteParameter(out, s, "labelSelector", "query", "string", "A selector to restrict the list of returned objects by their labels.");
  WriteParameter(out, s, "fieldSelector", "query", "string", "A selector to restrict the list of returned objects by their fields (metadata.name, metadata.namespace).");
  WriteParameter(out, s, "limit", "query", "integer", "The maximum number of responses to return for a list call.");
  WriteParameter(out, s, "continue", "query", "string", "The continue token of the previous page.");
  WriteParameter(out, s, "watch", "query", "boolean", "Watch for changes to the described resources and return them as a stream of add and delete notifications.");
  WriteParameter(out, s, "resourceVersion", "query", "string", "Where a watch starts.");
  WriteParameter(out, s, "timeoutSeconds", "query", "integer", "Timeout for the list/watch call.");
  WriteParameter(out, s, "allowWatchBookmarks", "query", "boolean", "Requests watch events with type \"BOOKMARK\".");
}

void WriteOperation(JsonOut& out, const Style& s, const ResourceInfo& r, const Operation& op) {
  out.Key(op.method).Open().Field("description", op.description).Field("operationId", op.id);
  out.FieldStrings("tags", {Camel(r.group) + "_" + r.version});
  if (!s.v3) out.FieldStrings("consumes", {"*/*"}).FieldStrings("produces", {"application/json"});
  if (op.action == "list") {
    out.Key("parameters").OpenArray();
    WriteListParameters(out, s);
    out.CloseArray();
  }
  out.Key("responses").Open().Key("200").Open().Field("description", "OK");
  std::string ref = s.Ref(op.response);
  if (s.v3) {
    out.Key("content").Open().Key("application/json").Open().Key("schema").Open();
    out.Field("$ref", ref).Close().Close().Close();
  } else {
    out.Key("schema").Open().Field("$ref", ref).Close();
  }
  out.Close().Key("401").Open().Field("description", "Unauthorized").Close().Close();
  out.Field("x-kubernetes-action", op.action).Key("x-kubernetes-group-version-kind");
  WriteGvk(out, r, r.kind);
  out.Close();
}

void WritePath(JsonOut& out, const Style& s, const ResourceInfo& r, const std::string& path,
               bool with_namespace, bool with_name, const std::vector<Operation>& ops) {
  if (ops.empty()) return;
  out.Key(path).Open();
  for (const auto& op : ops) WriteOperation(out, s, r, op);
  out.Key("parameters").OpenArray();
  if (with_name) WriteParameter(out, s, "name", "path", "string", ("name of the " + r.kind).c_str());
  if (with_namespace) WriteParameter(out, s, "namespace", "path", "string", "object name and auth scope, such as for teams and projects");
  out.CloseArray().Close();
}

void WritePaths(JsonOut& out, const Style& s, const ResourceInfo& r) {
  std::string base = "/apis/" + r.group_version() + "/";
  std::string id = Camel(r.group) + Camel(r.version);
  std::string scoped = r.namespaced ? "Namespaced" : "";
  std::string list = DefinitionName(r, r.list_kind), one = DefinitionName(r, r.kind);
  std::vector<Operation> collection, item, all;
  if (r.HasVerb("list")) {
    collection.push_back({"get", "list", "list" + id + scoped + r.kind, list, "list or watch objects of kind " + r.kind});
    all.push_back({"get", "list", "list" + id + r.kind + "ForAllNamespaces", list, "list or watch objects of kind " + r.kind});
  }
  if (r.HasVerb("deletecollection")) {
    collection.push_back({"delete", "deletecollection", "deletecollection" + id + scoped + r.kind, list, "delete collection of " + r.kind});
  }
  if (r.HasVerb("get")) item.push_back({"get", "get", "read" + id + scoped + r.kind, one, "read the specified " + r.kind});
  if (r.HasVerb("delete")) item.push_back({"delete", "delete", "delete" + id + scoped + r.kind, one, "delete a " + r.kind});
  std::string prefix = r.namespaced ? base + "namespaces/{namespace}/" : base;
  WritePath(out, s, r, prefix + r.plural, r.namespaced, false, collection);
  WritePath(out, s, r, prefix + r.plural + "/{name}", r.namespaced, true, item);
  if (r.namespaced) WritePath(out, s, r, base + r.plural, false, false, all);
}

std::string Document(const std::vector<const ServedResource*>& resources, const Style& s) {
  JsonOut out;
  out.Open();
  if (s.v3) out.Field("openapi", "3.0.0");
  else out.Field("swagger", "2.0");
  out.Key("info").Open().Field("title", "stash").Field("version", "v" STASH_VERSION).Close();
  out.Key("paths").Open();
  for (const auto* r : resources) WritePaths(out, s, r->info);
  out.Close();
  out.Key(s.v3 ? "components" : "definitions").Open();
  if (s.v3) out.Key("schemas").Open();
  for (const auto* r : resources) {
    WriteKindSchema(out, s, *r);
    WriteListSchema(out, s, *r);
  }
  WriteMetaSchemas(out);
  if (s.v3) out.Close();
  out.Close().Close();
  return out.Take();
}

}  // namespace

std::string ReverseDomain(const std::string& group) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = group.find('.', start);
    parts.push_back(group.substr(start, dot == std::string::npos ? dot : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  std::string out;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) out += (out.empty() ? "" : ".") + *it;
  return out;
}

OpenApi::OpenApi(const std::vector<ServedResource>& resources) {
  std::vector<const ServedResource*> all;
  std::map<std::string, std::vector<const ServedResource*>> by_gv;
  for (const auto& r : resources) {
    all.push_back(&r);
    by_gv[r.info.group_version()].push_back(&r);
  }
  v2_ = Document(all, Style{false});
  v2_protobuf_ = OpenApiV2Protobuf(v2_);
  JsonOut index;
  index.Open().Key("paths").Open();
  for (const auto& [gv, list] : by_gv) {
    std::string doc = Document(list, Style{true});
    std::string hash = Sha256(AsBytes(doc)).Hex();
    for (char& c : hash) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    index.Key("apis/" + gv).Open();
    index.Field("serverRelativeURL", "/openapi/v3/apis/" + gv + "?hash=" + hash).Close();
    v3_[gv] = {std::move(doc), hash};
  }
  index.Close().Close();
  v3_index_ = index.Take();
}

const std::string* OpenApi::V3(const std::string& group_version) const {
  auto it = v3_.find(group_version);
  return it == v3_.end() ? nullptr : &it->second.first;
}

std::string OpenApi::V3Hash(const std::string& group_version) const {
  auto it = v3_.find(group_version);
  return it == v3_.end() ? "" : it->second.second;
}

}  // namespace stash::apiserver
