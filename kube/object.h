// Kubernetes objects as the client hands them out: parsed JSON documents,
// shared and immutable once parsed (an informer's store, a reconciler and a
// handler may hold the same one), with accessors for the metadata every
// object has. Code that changes an object copies it first (Clone).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "base/result.h"

namespace stash::kube {

using Json = rapidjson::Value;
using ObjectPtr = std::shared_ptr<const rapidjson::Document>;

// Parses one object; kCorrupt naming `what` when it is not a JSON object.
Result<ObjectPtr> ParseObject(std::string_view json, const std::string& what);

// A deep copy that can be changed.
std::unique_ptr<rapidjson::Document> Clone(const Json& object);
std::string ToJson(const Json& value);

// metadata.* of an object ("" when missing).
std::string Name(const Json& object);
std::string Namespace(const Json& object);
std::string Uid(const Json& object);
std::string ResourceVersion(const Json& object);
std::map<std::string, std::string> Labels(const Json& object);
std::map<std::string, std::string> Annotations(const Json& object);
bool BeingDeleted(const Json& object);  // metadata.deletionTimestamp set
// "namespace/name", or "name" for cluster-scoped objects: the key of
// stores and work queues, as client-go's MetaNamespaceKeyFunc.
std::string KeyOf(const Json& object);
std::string Key(const std::string& ns, const std::string& name);
// Splits a key back into namespace ("" for cluster-scoped) and name.
std::pair<std::string, std::string> SplitKey(const std::string& key);

// The value at a JSON pointer ("/spec/backend/local/mountPath"); nullptr
// when absent.
const Json* At(const Json& object, const char* pointer);
std::string StringAt(const Json& object, const char* pointer);
// A member holding a string ("" when absent or not a string).
std::string StringOf(const Json& object, const char* key);
// A map of strings (labels, a Secret's data), values of other types left out.
std::map<std::string, std::string> StringMap(const Json* object);

}  // namespace stash::kube
