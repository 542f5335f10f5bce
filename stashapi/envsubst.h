// Stash's `${...}` substitution: how a Task's and a Function's JSON take the
// values of their variables before they become a Job's pod, as Stash's
// operator did it (a bash-like expansion over the JSON text, with an input
// map instead of the environment).
//
// Forms, VAR a name ([A-Za-z_][A-Za-z0-9_]*):
//   ${VAR}                      the value; a key present with "" gives ""
//   ${VAR=d} ${VAR:=d} ${VAR:-d} the value when the key is present (even
//                               ""), else d (which may hold ${...} itself)
//   ${VAR-d} ${VAR+alt} ${VAR:+alt} ${VAR:?msg}
//                               bash's meaning for a present key
//   ${#VAR}                     the length in bytes
//   ${VAR^} ${VAR^^} ${VAR,} ${VAR,,}  upper/lower case of the first or all
//   ${VAR:pos} ${VAR:pos:len}   a substring (bytes; a negative pos counts
//                               from the end)
//   ${VAR#p} ${VAR##p} ${VAR%p} ${VAR%%p}  the shortest/longest prefix or
//                               suffix matching the glob p (* ? [..]) cut off
//   ${VAR/a/b} ${VAR//a/b} ${VAR/#a/b} ${VAR/%a/b}  a literal `a` replaced
//                               by b: the first, every, at the start, at the end
// Only the three default forms spare a key that is absent: every other form
// of an absent key is an error naming it. A bare `$` (also `$NAME` without
// braces, and Kubernetes' `$(NAME)`) is left as it is. Values go in raw: a
// value holding `"` breaks the JSON around it, as it did in Stash.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "base/result.h"

namespace stash {

using SubstInputs = std::map<std::string, std::string>;

// `text` with every `${...}` expanded from `inputs`. kInvalid naming the
// variable when a key is absent without a default, or the expression when
// it does not parse (no closing brace, no name, an unknown operator).
Result<std::string> EnvSubst(std::string_view text, const SubstInputs& inputs);

}  // namespace stash
