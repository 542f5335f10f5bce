// Reading and applying file metadata as restic records it in tree nodes.
#pragma once

#include <sys/stat.h>

#include <string>

#include "base/result.h"
#include "storage/tree.h"

namespace stash {

// A node for the file at `path` (not followed if a symlink) whose lstat is
// `st`: type, Go mode bits, times in the local zone, owner ids and names,
// inode, device, size and link count for files, symlink target, xattrs.
// Content and subtree are left for the caller to fill.
Result<Node> NodeFromStat(const std::string& path, const std::string& name,
                          const struct stat& st);

// User and group names for ids, cached (lookups are slow with NSS).
std::string UserName(uint32_t uid);
std::string GroupName(uint32_t gid);

}  // namespace stash
