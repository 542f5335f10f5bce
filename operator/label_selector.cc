#include "operator/label_selector.h"

#include <algorithm>
#include <vector>

namespace stash::op {
namespace {

std::vector<std::string> Values(const kube::Json& expression) {
  std::vector<std::string> out;
  const kube::Json* values = kube::At(expression, "/values");
  if (values && values->IsArray()) {
    for (const auto& v : values->GetArray()) {
      if (v.IsString()) out.emplace_back(v.GetString(), v.GetStringLength());
    }
  }
  return out;
}

Result<bool> ExpressionMatches(const kube::Json& e, const std::map<std::string, std::string>& labels) {
  std::string key = kube::StringOf(e, "key");
  std::string op = kube::StringOf(e, "operator");
  auto values = Values(e);
  auto it = labels.find(key);
  bool has = it != labels.end();
  bool listed = has && std::find(values.begin(), values.end(), it->second) != values.end();
  if (op == "In" || op == "NotIn") {
    if (values.empty()) return Invalid("matchExpressions " + key + " " + op + ": values must not be empty");
    return op == "In" ? listed : !listed;
  }
  if (op == "Exists") return has;
  if (op == "DoesNotExist") return !has;
  return Invalid("matchExpressions " + key + ": unknown operator \"" + op + "\"");
}

}  // namespace

Result<bool> SelectorMatches(const kube::Json* selector, const std::map<std::string, std::string>& labels) {
  if (!selector || selector->IsNull()) return false;
  if (!selector->IsObject()) return Invalid("selector is not an object");
  for (const auto& [key, value] : kube::StringMap(kube::At(*selector, "/matchLabels"))) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  const kube::Json* expressions = kube::At(*selector, "/matchExpressions");
  if (expressions && expressions->IsArray()) {
    for (const auto& e : expressions->GetArray()) {
      STASH_ASSIGN_OR_RETURN(bool ok, ExpressionMatches(e, labels));
      if (!ok) return false;
    }
  }
  return true;
}

}  // namespace stash::op
