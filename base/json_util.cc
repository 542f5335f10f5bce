#include "base/json_util.h"

#include <rapidjson/error/en.h>

namespace stash::json {

Result<rapidjson::Document> Parse(std::string_view text, const std::string& what) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError()) {
    return Corrupt(what + ": invalid JSON (" +
                   rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                   std::to_string(doc.GetErrorOffset()) + ")");
  }
  return doc;
}

const rapidjson::Value* Member(const rapidjson::Value& obj, const char* key) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(key);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

std::optional<std::string> String(const rapidjson::Value& obj, const char* key) {
  const auto* v = Member(obj, key);
  if (!v || !v->IsString()) return std::nullopt;
  return std::string(v->GetString(), v->GetStringLength());
}

std::optional<uint64_t> Uint(const rapidjson::Value& obj, const char* key) {
  const auto* v = Member(obj, key);
  if (!v || !v->IsUint64()) return std::nullopt;
  return v->GetUint64();
}

}  // namespace stash::json
