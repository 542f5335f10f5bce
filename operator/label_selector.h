// metav1.LabelSelector as workloads and Restics carry it: matchLabels
// (all must match) and matchExpressions (In, NotIn, Exists, DoesNotExist).
// An empty selector ({}) matches everything, an absent one (null) nothing,
// as Kubernetes defines it.
#pragma once

#include <map>
#include <string>

#include "base/result.h"
#include "kube/object.h"

namespace stash::op {

// kInvalid naming the expression when the selector is malformed (an
// unknown operator, In without values).
Result<bool> SelectorMatches(const kube::Json* selector, const std::map<std::string, std::string>& labels);

}  // namespace stash::op
