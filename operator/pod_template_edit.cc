#include "operator/pod_template_edit.h"

#include <rapidjson/pointer.h>

#include "base/json_out.h"

namespace stash::op {

rapidjson::Value& EnsureArray(rapidjson::Document& doc, const char* pointer) {
  rapidjson::Value* v = rapidjson::Pointer(pointer).Get(doc);
  if (!v || !v->IsArray()) v = &rapidjson::Pointer(pointer).Set(doc, rapidjson::Value(rapidjson::kArrayType));
  return *v;
}

void DropEmptyArray(rapidjson::Document& doc, const char* parent, const char* member) {
  rapidjson::Value* p = rapidjson::Pointer(parent).Get(doc);
  if (!p || !p->IsObject()) return;
  auto it = p->FindMember(member);
  if (it != p->MemberEnd() && it->value.IsArray() && it->value.Empty()) p->RemoveMember(it);
}

void AppendJson(rapidjson::Document& doc, rapidjson::Value& array, const std::string& json) {
  rapidjson::Document parsed;
  parsed.Parse(json.data(), json.size());
  rapidjson::Value v(parsed, doc.GetAllocator());
  array.PushBack(v, doc.GetAllocator());
}

std::string AppliedObject(const kube::Json& object, const char* api_version, const char* kind) {
  JsonOut j;
  j.Open().Field("apiVersion", api_version).Field("kind", kind);
  j.Key("metadata").Open().Field("name", kube::Name(object)).Field("namespace", kube::Namespace(object)).Close();
  const kube::Json* spec = kube::At(object, "/spec");
  j.Key("spec").Raw(spec ? kube::ToJson(*spec) : "{}");
  j.Close();
  return j.Take();
}

}  // namespace stash::op
