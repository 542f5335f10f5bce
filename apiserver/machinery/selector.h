// Label and field selectors, parsed and matched as Kubernetes does.
//
// Label selectors: comma-separated requirements, all of which must hold:
// `k=v`, `k==v`, `k!=v` (also true without k), `k in (a,b)`, `k notin (a,b)`
// (also true without k), `k` (exists), `!k` (absent), `k>5`, `k<5`.
// Field selectors: `field=v`, `field==v`, `field!=v`, with `\,` `\=` `\\`
// escapes, over the fields a resource supports.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace stash::apiserver {

using Labels = std::map<std::string, std::string>;

struct LabelRequirement {
  enum Op { kIn, kNotIn, kExists, kDoesNotExist, kGreaterThan, kLessThan };
  std::string key;
  Op op = kExists;
  std::vector<std::string> values;  // `=` is kIn and `!=` is kNotIn with one value

  bool Matches(const Labels& labels) const;
};

class LabelSelector {
 public:
  // kInvalid with a message like kube-apiserver's ("unable to parse
  // requirement: ...") for text that is not a selector.
  static Result<LabelSelector> Parse(std::string_view text);

  bool Matches(const Labels& labels) const;
  bool empty() const { return requirements_.empty(); }
  const std::vector<LabelRequirement>& requirements() const { return requirements_; }

  // The only values `key` may have for a match, when the selector pins it
  // (`key=v`, `key in (a,b)`); nullopt when any value might match. Lets a
  // storage skip whole groups of objects (repositories) it need not read.
  std::optional<std::set<std::string>> AllowedValues(const std::string& key) const;

 private:
  std::vector<LabelRequirement> requirements_;
};

struct FieldRequirement {
  std::string field;
  bool equals = true;  // false for !=
  std::string value;
};

class FieldSelector {
 public:
  // `known` lists the fields that may be used; others are kInvalid with
  // kube-apiserver's message ("x" is not a known field selector: only ...).
  static Result<FieldSelector> Parse(std::string_view text, const std::vector<std::string>& known);

  // `value_of` gives an object's value for a field name.
  template <class F>
  bool Matches(F value_of) const {
    for (const auto& r : requirements_) {
      if ((value_of(r.field) == r.value) != r.equals) return false;
    }
    return true;
  }
  // The value `field` must equal, if an `=` requirement pins it.
  std::optional<std::string> RequiredValue(const std::string& field) const;
  bool empty() const { return requirements_.empty(); }

 private:
  std::vector<FieldRequirement> requirements_;
};

// Kubernetes name rules, for label keys and values.
bool IsQualifiedName(std::string_view key);
bool IsLabelValue(std::string_view value);

}  // namespace stash::apiserver
