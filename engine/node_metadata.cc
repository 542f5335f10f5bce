#include "engine/node_metadata.h"

#include <grp.h>
#include <pwd.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace stash {
namespace {

NodeType TypeFromMode(mode_t mode) {
  if (S_ISDIR(mode)) return NodeType::kDir;
  if (S_ISLNK(mode)) return NodeType::kSymlink;
  if (S_ISBLK(mode)) return NodeType::kDev;
  if (S_ISCHR(mode)) return NodeType::kCharDev;
  if (S_ISFIFO(mode)) return NodeType::kFifo;
  if (S_ISSOCK(mode)) return NodeType::kSocket;
  return NodeType::kFile;
}

Result<std::string> ReadLink(const std::string& path, size_t hint) {
  std::vector<char> buf(hint + 1 > 256 ? hint + 1 : 256);
  while (true) {
    ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
    if (n < 0) return IOError("readlink " + path + ": " + std::strerror(errno));
    if (static_cast<size_t>(n) < buf.size()) return std::string(buf.data(), n);
    buf.resize(buf.size() * 2);
  }
}

// Extended attributes; a file system without xattr support just has none.
std::vector<ExtendedAttribute> ListXattrs(const std::string& path) {
  std::vector<ExtendedAttribute> out;
  ssize_t len = ::llistxattr(path.c_str(), nullptr, 0);
  if (len <= 0) return out;
  std::vector<char> names(static_cast<size_t>(len));
  len = ::llistxattr(path.c_str(), names.data(), names.size());
  if (len <= 0) return out;
  for (size_t pos = 0; pos < static_cast<size_t>(len);) {
    std::string name(&names[pos]);
    pos += name.size() + 1;
    ssize_t vlen = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (vlen < 0) continue;
    Bytes value(static_cast<size_t>(vlen));
    vlen = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    if (vlen < 0) continue;
    value.resize(static_cast<size_t>(vlen));
    out.push_back({name, std::move(value)});
  }
  return out;
}

template <class Lookup>
std::string CachedName(std::unordered_map<uint32_t, std::string>& cache, uint32_t id,
                       Lookup lookup) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(id);
  if (it != cache.end()) return it->second;
  std::string name = lookup(id);
  cache.emplace(id, name);
  return name;
}

}  // namespace

std::string UserName(uint32_t uid) {
  static std::unordered_map<uint32_t, std::string> cache;
  return CachedName(cache, uid, [](uint32_t id) {
    std::vector<char> buf(16384);
    struct passwd pw, *res = nullptr;
    if (::getpwuid_r(id, &pw, buf.data(), buf.size(), &res) == 0 && res) return std::string(pw.pw_name);
    return std::string();
  });
}

std::string GroupName(uint32_t gid) {
  static std::unordered_map<uint32_t, std::string> cache;
  return CachedName(cache, gid, [](uint32_t id) {
    std::vector<char> buf(16384);
    struct group gr, *res = nullptr;
    if (::getgrgid_r(id, &gr, buf.data(), buf.size(), &res) == 0 && res) return std::string(gr.gr_name);
    return std::string();
  });
}

std::vector<ExtendedAttribute> ReadXattrs(const std::string& path, NodeType type) {
  // restic 0.14 records no xattrs for symlinks.
  if (type == NodeType::kSymlink) return {};
  return ListXattrs(path);
}

Result<Node> NodeFromStat(const std::string& path, const std::string& name,
                          const struct stat& st, Xattrs xattrs) {
  Node node;
  node.name = name;
  node.type = TypeFromMode(st.st_mode);
  node.mode = GoModeFromUnix(st.st_mode);
  node.mtime = Timestamp::Local(st.st_mtim.tv_sec, static_cast<uint32_t>(st.st_mtim.tv_nsec));
  node.atime = Timestamp::Local(st.st_atim.tv_sec, static_cast<uint32_t>(st.st_atim.tv_nsec));
  node.ctime = Timestamp::Local(st.st_ctim.tv_sec, static_cast<uint32_t>(st.st_ctim.tv_nsec));
  node.uid = st.st_uid;
  node.gid = st.st_gid;
  node.user = UserName(st.st_uid);
  node.group = GroupName(st.st_gid);
  node.inode = st.st_ino;
  node.device_id = st.st_dev;
  switch (node.type) {
    case NodeType::kFile:
      node.size = static_cast<uint64_t>(st.st_size);
      node.links = st.st_nlink;
      break;
    case NodeType::kSymlink: {
      node.links = st.st_nlink;
      STASH_ASSIGN_OR_RETURN(node.linktarget, ReadLink(path, static_cast<size_t>(st.st_size)));
      break;
    }
    case NodeType::kDev:
    case NodeType::kCharDev:
      node.device = st.st_rdev;
      node.links = st.st_nlink;
      break;
    default:
      break;
  }
  if (xattrs == Xattrs::kRead) node.extended_attributes = ReadXattrs(path, node.type);
  return node;
}

}  // namespace stash
