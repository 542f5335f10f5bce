// Path patterns for --include / --exclude, with restic's matching rules.
//
// A pattern is split at "/" and matched component by component with shell
// glob rules (*, ?, [...]); "**" matches any number of components. A
// pattern not starting with "/" may match at any depth. A pattern that
// matches a directory also matches everything below it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace stash {

class PathFilter {
 public:
  // Validates and compiles patterns; kInvalid names a malformed pattern.
  static Result<PathFilter> Compile(const std::vector<std::string>& patterns);
  // `patterns` plus `ignoring_case` (restore's --iinclude / --iexclude): a
  // path matches if the first set matches it or the second, lower-cased,
  // matches it lower-cased. Negations work within their own set.
  static Result<PathFilter> Compile(const std::vector<std::string>& patterns,
                                    const std::vector<std::string>& ignoring_case);

  bool Empty() const { return patterns_.empty() && (!ignoring_case_ || ignoring_case_->Empty()); }

  // True if `path` (absolute, "/"-separated) or one of its parent folders
  // matches some pattern.
  bool Match(std::string_view path) const;

  // True if something below the folder `path` might match some pattern, so
  // a walk for --include must descend into it.
  bool ChildMayMatch(std::string_view path) const;

 private:
  bool MatchOwn(std::string_view path) const;
  bool ChildMayMatchOwn(std::string_view path) const;
  std::shared_ptr<const PathFilter> ignoring_case_;  // lower-cased patterns, or none
  std::vector<std::vector<std::string>> patterns_;  // split components
  // Parallel to patterns_: the pattern began with "!" (restic >= 0.13): a
  // path it matches is taken out of the set matched by earlier patterns.
  std::vector<bool> negated_;
  bool any_negated_ = false;
};

// Go's filepath.Match for one name: '*' and '?' never match '/'. kInvalid
// ("syntax error in pattern") for a malformed pattern, whatever the name.
Result<bool> FilepathMatch(std::string_view pattern, std::string_view name);

}  // namespace stash
