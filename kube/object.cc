#include "kube/object.h"

#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace stash::kube {

Result<ObjectPtr> ParseObject(std::string_view json, const std::string& what) {
  auto doc = std::make_shared<rapidjson::Document>();
  doc->Parse(json.data(), json.size());
  if (doc->HasParseError() || !doc->IsObject()) return Corrupt(what + ": not a JSON object");
  return ObjectPtr(std::move(doc));
}

std::unique_ptr<rapidjson::Document> Clone(const Json& object) {
  auto doc = std::make_unique<rapidjson::Document>();
  doc->CopyFrom(object, doc->GetAllocator());
  return doc;
}

std::string ToJson(const Json& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

const Json* At(const Json& object, const char* pointer) {
  return rapidjson::Pointer(pointer).Get(object);
}

std::string StringAt(const Json& object, const char* pointer) {
  const Json* v = At(object, pointer);
  return v && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : "";
}

std::string StringOf(const Json& object, const char* key) {
  if (!object.IsObject()) return "";
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

std::map<std::string, std::string> StringMap(const Json* object) {
  std::map<std::string, std::string> out;
  if (!object || !object->IsObject()) return out;
  for (const auto& m : object->GetObject()) {
    if (m.value.IsString()) {
      out.emplace(std::string(m.name.GetString(), m.name.GetStringLength()),
                  std::string(m.value.GetString(), m.value.GetStringLength()));
    }
  }
  return out;
}

std::string Name(const Json& object) { return StringAt(object, "/metadata/name"); }
std::string Namespace(const Json& object) { return StringAt(object, "/metadata/namespace"); }
std::string Uid(const Json& object) { return StringAt(object, "/metadata/uid"); }
std::string ResourceVersion(const Json& object) { return StringAt(object, "/metadata/resourceVersion"); }
std::map<std::string, std::string> Labels(const Json& object) {
  return StringMap(At(object, "/metadata/labels"));
}
std::map<std::string, std::string> Annotations(const Json& object) {
  return StringMap(At(object, "/metadata/annotations"));
}
bool BeingDeleted(const Json& object) { return !StringAt(object, "/metadata/deletionTimestamp").empty(); }

std::string Key(const std::string& ns, const std::string& name) {
  return ns.empty() ? name : ns + "/" + name;
}

std::string KeyOf(const Json& object) { return Key(Namespace(object), Name(object)); }

std::pair<std::string, std::string> SplitKey(const std::string& key) {
  size_t slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

}  // namespace stash::kube
