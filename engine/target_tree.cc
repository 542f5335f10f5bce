#include "engine/target_tree.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine/paths.h"

namespace stash {
namespace {

Status AddBelow(TargetTree& tree, const std::string& target, const std::string& root,
                const std::vector<std::string>& pc, size_t i) {
  const std::string& name = pc[i];
  if (i + 1 == pc.size()) {
    auto& leaf = tree.children[name];
    if (!leaf.path.empty()) return Invalid("target " + target + " is given twice");
    leaf.path = target;
    return Status::Ok();
  }
  auto& node = tree.children[name];
  std::string subroot = JoinPath(root, name);
  node.info_path = subroot;
  return AddBelow(node, target, subroot, pc, i + 1);
}

Status AddTarget(TargetTree& top, const std::string& target) {
  auto pc = PathComponents(target);
  if (pc.empty()) return Invalid("invalid target " + target + " (no path components)");
  std::string root = RootDirectory(target);
  std::string name = pc[0];
  TargetTree node;
  node.root = root;
  for (int i = 1;; ++i) {
    auto it = top.children.find(name);
    if (it == top.children.end()) break;
    if (it->second.root == root) {
      node = it->second;
      break;
    }
    name = pc[0] + "-" + std::to_string(i);
  }
  if (pc.size() == 1) {
    if (!node.path.empty()) return Invalid("target " + target + " is given twice");
    node.path = target;
  } else {
    std::string subroot = JoinPath(root, pc[0]);
    STASH_RETURN_IF_ERROR(AddBelow(node, target, subroot, pc, 1));
    node.info_path = subroot;
  }
  top.children[name] = std::move(node);
  return Status::Ok();
}

// "." and "../.." have no components of their own: back up their entries.
Result<std::vector<std::string>> ResolveRelativeTargets(const std::vector<std::string>& targets) {
  std::vector<std::string> out;
  for (const auto& t : targets) {
    std::string clean = CleanPath(t);
    if (!PathComponents(clean).empty()) {
      out.push_back(clean);
      continue;
    }
    DIR* d = ::opendir(clean.c_str());
    if (!d) return IOError("open " + clean + ": " + std::strerror(errno));
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) out.push_back(JoinPath(clean, n));
  }
  return out;
}

}  // namespace

Result<TargetTree> BuildTargetTree(const std::vector<std::string>& targets) {
  STASH_ASSIGN_OR_RETURN(auto resolved, ResolveRelativeTargets(targets));
  TargetTree top;
  for (const auto& t : resolved) STASH_RETURN_IF_ERROR(AddTarget(top, t));
  return top;
}

}  // namespace stash
