#include "apiserver/machinery/resource.h"

#include <algorithm>

namespace stash::apiserver {

bool ResourceInfo::HasVerb(const std::string& verb) const {
  return std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
}

Result<std::vector<ObjectPtr>> Storage::DeleteAll(const std::vector<ObjectPtr>& objects,
                                                  const UserInfo& user, std::string& failed_name) {
  std::vector<ObjectPtr> deleted;
  for (const auto& object : objects) {
    auto gone = Delete(object, user);
    if (gone.ok()) {
      deleted.push_back(*gone);
    } else if (gone.error().kind() != ErrorKind::kNotFound) {
      failed_name = object->meta.name;
      return gone.error();
    }
  }
  return deleted;
}

}  // namespace stash::apiserver
