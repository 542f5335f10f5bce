// Trees and nodes: restic's directory listings, stored as tree blobs.
//
// A tree blob is `{"nodes":[...]}\n` with nodes sorted by name; its id is
// the SHA-256 of exactly those bytes. EncodeTree reproduces restic 0.14's
// bytes for the same metadata, so identical directories get identical ids.
// See docs/repository-format.md, 6.2 and 6.3.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/id.h"
#include "base/go_time.h"

namespace stash {

enum class NodeType { kFile, kDir, kSymlink, kDev, kCharDev, kFifo, kSocket };

const char* NodeTypeName(NodeType type);  // "file", "dir", "symlink", ...
std::optional<NodeType> NodeTypeFromName(std::string_view name);

// Go os.FileMode bits that restic stores in `mode` (not Unix bit values).
namespace gomode {
inline constexpr uint32_t kDir = 1u << 31;
inline constexpr uint32_t kSymlink = 1u << 27;
inline constexpr uint32_t kDevice = 1u << 26;
inline constexpr uint32_t kNamedPipe = 1u << 25;
inline constexpr uint32_t kSocket = 1u << 24;
inline constexpr uint32_t kSetuid = 1u << 23;
inline constexpr uint32_t kSetgid = 1u << 22;
inline constexpr uint32_t kCharDevice = 1u << 21;
inline constexpr uint32_t kSticky = 1u << 20;
inline constexpr uint32_t kPerm = 0777;
}  // namespace gomode

// Unix st_mode <-> Go FileMode, as restic converts them.
uint32_t GoModeFromUnix(uint32_t st_mode);
uint32_t UnixPermissionsFromGoMode(uint32_t go_mode);  // 07777 bits

struct ExtendedAttribute {
  std::string name;
  Bytes value;
};

struct Node {
  std::string name;  // raw file name bytes (already unquoted)
  NodeType type = NodeType::kFile;
  uint32_t mode = 0;  // Go FileMode
  Timestamp mtime, atime, ctime;
  uint32_t uid = 0, gid = 0;
  std::string user, group;
  uint64_t inode = 0;
  uint64_t device_id = 0;
  uint64_t size = 0;
  uint64_t links = 0;
  std::string linktarget;  // raw bytes
  std::vector<ExtendedAttribute> extended_attributes;
  uint64_t device = 0;
  // Data blob ids for files ([] for an empty file); nullopt (JSON null) for
  // every other type.
  std::optional<std::vector<Id>> content;
  std::optional<Id> subtree;  // dirs only
  std::string error;
};

struct Tree {
  std::vector<Node> nodes;  // sorted by name, unique
};

// The exact tree blob bytes restic 0.14 writes (nodes must be sorted).
// One deliberate difference: a symlink target that is not valid UTF-8 also
// gets `linktarget_raw` (base64 of the bytes, as restic >= 0.16 writes), so
// it survives a restore; restic 0.14 ignores the key.
Bytes EncodeTree(const Tree& tree);

// Parses a tree blob; tolerates unknown keys and the newer fields
// (linktarget_raw, generic_attributes). Errors are kCorrupt.
Result<Tree> DecodeTree(ByteView json);

// Sorts nodes by name bytewise, as restic's tree builder requires.
void SortTree(Tree& tree);

// Whether EncodeTree writes the same bytes for both nodes: restic's
// Node.Equals, which is how it tells an unmodified file or folder.
bool SameEncoding(const Node& a, const Node& b);

// Whether EncodeTree writes the same bytes for both trees: every field of
// every node equal, times with their UTC offsets. Far cheaper than encoding.
bool SameEncoding(const Tree& a, const Tree& b);

}  // namespace stash
