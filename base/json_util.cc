#include "base/json_util.h"

#include <rapidjson/error/en.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

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

const rapidjson::Value* At(const rapidjson::Value& obj, const char* pointer) {
  return rapidjson::Pointer(pointer).Get(obj);
}

std::string StringAt(const rapidjson::Value& obj, const char* pointer) {
  const auto* v = At(obj, pointer);
  return v && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : "";
}

std::string StringOr(const rapidjson::Value& obj, const char* key) { return String(obj, key).value_or(""); }

int64_t IntOr(const rapidjson::Value& obj, const char* key) {
  const auto* v = Member(obj, key);
  return v && v->IsInt64() ? v->GetInt64() : 0;
}

bool BoolOr(const rapidjson::Value& obj, const char* key) {
  const auto* v = Member(obj, key);
  return v && v->IsBool() && v->GetBool();
}

std::vector<std::string> Strings(const rapidjson::Value& obj, const char* key) {
  std::vector<std::string> out;
  const auto* v = Member(obj, key);
  if (!v || !v->IsArray()) return out;
  for (const auto& e : v->GetArray()) {
    if (e.IsString()) out.emplace_back(e.GetString(), e.GetStringLength());
  }
  return out;
}

std::vector<const rapidjson::Value*> ArrayAt(const rapidjson::Value& obj, const char* pointer) {
  std::vector<const rapidjson::Value*> out;
  const auto* v = At(obj, pointer);
  if (!v || !v->IsArray()) return out;
  for (const auto& e : v->GetArray()) out.push_back(&e);
  return out;
}

std::string Text(const rapidjson::Value* value, const char* fallback) {
  if (!value || value->IsNull()) return fallback;
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value->Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace stash::json
