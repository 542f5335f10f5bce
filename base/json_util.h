// Small helpers for reading JSON with RapidJSON: restic's files and the
// answers of remote services.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace stash::json {

// Parses `text`; kCorrupt naming `what` when it is not valid JSON.
Result<rapidjson::Document> Parse(std::string_view text, const std::string& what);

// Field accessors: nullopt when the member is missing or of another type.
const rapidjson::Value* Member(const rapidjson::Value& obj, const char* key);
std::optional<std::string> String(const rapidjson::Value& obj, const char* key);
std::optional<uint64_t> Uint(const rapidjson::Value& obj, const char* key);

}  // namespace stash::json
