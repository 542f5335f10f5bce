// Small helpers for reading JSON with RapidJSON: restic's files and the
// answers of remote services.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace stash::json {

// Parses `text`; kCorrupt naming `what` when it is not valid JSON.
Result<rapidjson::Document> Parse(std::string_view text, const std::string& what);

// Field accessors: nullopt when the member is missing or of another type.
const rapidjson::Value* Member(const rapidjson::Value& obj, const char* key);
std::optional<std::string> String(const rapidjson::Value& obj, const char* key);
std::optional<uint64_t> Uint(const rapidjson::Value& obj, const char* key);

// Accessors for reading API objects, where a missing or mistyped field
// reads as its zero value; `pointer` is a JSON pointer ("/spec/schedule").
const rapidjson::Value* At(const rapidjson::Value& obj, const char* pointer);
std::string StringAt(const rapidjson::Value& obj, const char* pointer);
std::string StringOr(const rapidjson::Value& obj, const char* key);  // "" when missing
int64_t IntOr(const rapidjson::Value& obj, const char* key);         // 0 when missing
bool BoolOr(const rapidjson::Value& obj, const char* key);           // false when missing
std::vector<std::string> Strings(const rapidjson::Value& obj, const char* key);
// The elements of an array at `pointer`; none when absent.
std::vector<const rapidjson::Value*> ArrayAt(const rapidjson::Value& obj, const char* pointer);
// A value written back as compact JSON; `fallback` when `value` is null.
std::string Text(const rapidjson::Value* value, const char* fallback);

}  // namespace stash::json
