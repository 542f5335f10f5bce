#include "apiserver/resource.h"

#include <algorithm>

namespace stash::apiserver {

bool ResourceInfo::HasVerb(const std::string& verb) const {
  return std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
}

}  // namespace stash::apiserver
