// The shape of a snapshot's top levels, built from the backup targets
// before anything is read, exactly as restic builds it (docs/repository-format.md,
// 6.1): an absolute target /a/b/c sits under intermediate folders a and b
// that carry their own metadata; a relative target keeps its relative
// shape without leading ".."; "." and "../.." stand for their contents; two
// top-level names from different roots become "x" and "x-1".
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/result.h"

namespace stash {

struct TargetTree {
  std::string path;       // set for a target: back it up whole
  std::string info_path;  // set for an intermediate folder: take its metadata
  std::string root;       // folder holding the first component
  std::map<std::string, TargetTree> children;  // by name, sorted bytewise
};

// Builds the tree for the given targets (as typed by the user).
Result<TargetTree> BuildTargetTree(const std::vector<std::string>& targets);

}  // namespace stash
