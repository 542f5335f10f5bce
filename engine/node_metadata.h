// Reading and applying file metadata as restic records it in tree nodes.
#pragma once

#include <sys/stat.h>

#include <string>

#include "base/result.h"
#include "storage/tree.h"

namespace stash {

// Whether NodeFromStat lists the file's extended attributes or leaves them
// for the caller (who may know them already).
enum class Xattrs { kRead, kLeave };

// A node for the file at `path` (not followed if a symlink) whose lstat is
// `st`: type, Go mode bits, times in the local zone, owner ids and names,
// inode, device, size and link count for files, symlink target, and with
// Xattrs::kRead the extended attributes (none for symlinks, as restic 0.14).
// Content and subtree are left for the caller to fill.
Result<Node> NodeFromStat(const std::string& path, const std::string& name,
                          const struct stat& st, Xattrs xattrs = Xattrs::kRead);

// The extended attributes NodeFromStat would record for `path` (a node of
// type `type`); a file system without xattr support gives none.
std::vector<ExtendedAttribute> ReadXattrs(const std::string& path, NodeType type);

// User and group names for ids, cached (lookups are slow with NSS).
std::string UserName(uint32_t uid);
std::string GroupName(uint32_t gid);

}  // namespace stash
