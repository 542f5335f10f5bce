// Small edits of a workload document that the sidecar injectors share:
// arrays made on demand, entries taken out by name, and the object that a
// last-applied annotation records.
#pragma once

#include <iterator>
#include <string>

#include <rapidjson/document.h>

#include "kube/object.h"

namespace stash::op {

// The array at `pointer`, created empty when missing or not an array.
rapidjson::Value& EnsureArray(rapidjson::Document& doc, const char* pointer);

// Removes the entries of `array` (may be null) whose "name" is in `names`.
template <class Names>
void EraseNamed(rapidjson::Value* array, const Names& names) {
  if (!array || !array->IsArray()) return;
  for (auto it = array->Begin(); it != array->End();) {
    std::string name = kube::StringOf(*it, "name");
    bool ours = false;
    for (const auto& n : names) ours = ours || name == n;
    it = ours ? array->Erase(it) : it + 1;
  }
}

// Removes parent.member when it is an empty array, so that taking out what
// was added leaves the document as it was.
void DropEmptyArray(rapidjson::Document& doc, const char* parent, const char* member);

// Appends the value `json` to `array`.
void AppendJson(rapidjson::Document& doc, rapidjson::Value& array, const std::string& json);

// {apiVersion, kind, metadata {name, namespace}, spec} of `object`: what a
// last-applied annotation records, and what decides whether a sidecar must
// change.
std::string AppliedObject(const kube::Json& object, const char* api_version, const char* kind);

}  // namespace stash::op
