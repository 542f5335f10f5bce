#include "engine/dump.h"

#include <cstring>

#include "storage/tree.h"

namespace stash {
namespace {

constexpr size_t kBlock = 512;

// Go's formatOctal: zero-padded digits and a NUL in a field of `width`.
void PutOctal(char* field, size_t width, uint64_t value) {
  std::string digits;
  do {
    digits.insert(digits.begin(), char('0' + (value & 7)));
    value >>= 3;
  } while (value);
  if (digits.size() < width - 1) digits.insert(0, width - 1 - digits.size(), '0');
  std::memcpy(field, digits.data(), std::min(digits.size(), width));
}

void PutString(char* field, size_t width, const std::string& s) {
  std::memcpy(field, s.data(), std::min(s.size(), width));
}

bool IsAscii(const std::string& s) {
  for (unsigned char c : s) {
    if (c >= 0x80 || c == 0) return false;
  }
  return true;
}

// USTAR keeps a long name as prefix (<= 155) "/" name (<= 100), split as
// Go's splitUSTARPath does.
bool SplitUstarName(const std::string& name, std::string* prefix, std::string* rest) {
  prefix->clear();
  *rest = name;
  if (name.size() <= 100) return true;
  size_t length = name.size();
  if (length > 156) {
    length = 156;
  } else if (name[length - 1] == '/') {
    --length;
  }
  size_t i = name.rfind('/', length - 1);
  if (i == std::string::npos || i == 0) return false;
  size_t nlen = name.size() - i - 1;
  if (nlen > 100 || nlen == 0 || i > 155) return false;
  *prefix = name.substr(0, i);
  *rest = name.substr(i + 1);
  return true;
}

struct TarHeader {
  std::string name, linkname, uname, gname;
  uint64_t mode = 0, uid = 0, gid = 0, size = 0;
  int64_t mtime = 0;
  char type = '0';
};

std::string HeaderBlock(const TarHeader& h, const std::string& prefix, const std::string& name) {
  std::string b(kBlock, '\0');
  char* p = b.data();
  PutString(p, 100, name);
  PutOctal(p + 100, 8, h.mode);
  PutOctal(p + 108, 8, h.uid);
  PutOctal(p + 116, 8, h.gid);
  PutOctal(p + 124, 12, h.size);
  PutOctal(p + 136, 12, static_cast<uint64_t>(h.mtime < 0 ? 0 : h.mtime));
  p[156] = h.type;
  PutString(p + 157, 100, h.linkname);
  std::memcpy(p + 257, "ustar\0" "00", 8);
  PutString(p + 265, 32, h.uname);
  PutString(p + 297, 32, h.gname);
  PutOctal(p + 329, 8, 0);
  PutOctal(p + 337, 8, 0);
  PutString(p + 345, 155, prefix);
  std::memset(p + 148, ' ', 8);
  uint64_t sum = 0;
  for (unsigned char c : b) sum += c;
  PutOctal(p + 148, 7, sum);
  p[154] = '\0';
  p[155] = ' ';
  return b;
}

std::string Padding(uint64_t size) {
  return std::string((kBlock - size % kBlock) % kBlock, '\0');
}

// A PAX record "LEN key=value\n" where LEN counts itself.
std::string PaxRecord(const std::string& key, const std::string& value) {
  size_t body = key.size() + value.size() + 3;
  size_t len = body + std::to_string(body).size();
  if (std::to_string(len).size() + body != len) ++len;
  return std::to_string(len) + " " + key + "=" + value + "\n";
}

// Go's toASCII: non-ASCII bytes are dropped from header fields.
std::string ToAscii(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x80) out += static_cast<char>(c);
  }
  return out;
}

// A field Go cannot store in USTAR gets a PAX record.
bool NeedsRecord(const std::string& value, size_t width) {
  return value.size() > width || !IsAscii(value);
}

// Go's writeRawFile for the extended header "<dir>/PaxHeaders.0/<base>".
std::string PaxHeaderBlock(const std::string& name, size_t size) {
  std::string dir, base = name;
  if (auto slash = name.rfind('/'); slash != std::string::npos) {
    dir = name.substr(0, slash + 1);
    base = name.substr(slash + 1);
  }
  std::string x = ToAscii(dir + "PaxHeaders.0" + (base.empty() ? "" : "/" + base));
  if (x.size() > 100) x.resize(100);
  while (!x.empty() && x.back() == '/') x.pop_back();
  std::string b(kBlock, '\0');
  char* p = b.data();
  PutString(p, 100, x);
  if (x.size() < 100) p[x.size()] = '\0';
  PutOctal(p + 100, 8, 0);
  PutOctal(p + 108, 8, 0);
  PutOctal(p + 116, 8, 0);
  PutOctal(p + 124, 12, size);
  PutOctal(p + 136, 12, 0);
  p[156] = 'x';
  std::memcpy(p + 257, "ustar\0" "00", 8);
  std::memset(p + 148, ' ', 8);
  uint64_t sum = 0;
  for (unsigned char c : b) sum += c;
  PutOctal(p + 148, 7, sum);
  p[154] = '\0';
  p[155] = ' ';
  return b;
}

// USTAR when every field fits, else PAX with a record per field that does
// not (sorted by key), the header fields cut to ASCII as Go writes them.
Status WriteHeader(const TarHeader& h, const DumpSink& out) {
  std::string prefix, rest;
  bool path_fits = IsAscii(h.name) && SplitUstarName(h.name, &prefix, &rest);
  bool pax = !path_fits || NeedsRecord(h.linkname, 100) || NeedsRecord(h.uname, 32) ||
             NeedsRecord(h.gname, 32);
  if (!pax) return out(AsBytes(HeaderBlock(h, prefix, rest)));
  std::string records;
  if (NeedsRecord(h.gname, 32)) records += PaxRecord("gname", h.gname);
  if (NeedsRecord(h.linkname, 100)) records += PaxRecord("linkpath", h.linkname);
  if (NeedsRecord(h.name, 100)) records += PaxRecord("path", h.name);
  if (NeedsRecord(h.uname, 32)) records += PaxRecord("uname", h.uname);
  STASH_RETURN_IF_ERROR(out(AsBytes(PaxHeaderBlock(h.name, records.size()))));
  STASH_RETURN_IF_ERROR(out(AsBytes(records + Padding(records.size()))));
  TarHeader ascii = h;
  ascii.name = ToAscii(h.name);
  ascii.linkname = ToAscii(h.linkname);
  ascii.uname = ToAscii(h.uname);
  ascii.gname = ToAscii(h.gname);
  std::string field = ascii.name;
  if (field.size() > 100) {
    // Go keeps readers from taking a cut name ending in "/" for a folder.
    field.resize(100);
    if (field.back() == '/') {
      while (!field.empty() && field.back() == '/') field.pop_back();
    }
  }
  return out(AsBytes(HeaderBlock(ascii, "", field)));
}

// Go's Time.Round(time.Second): halves round up.
int64_t RoundedSeconds(const Timestamp& t) { return t.seconds + (t.nanos >= 500000000 ? 1 : 0); }

uint64_t TarMode(const Node& n) {
  uint64_t mode = n.mode & gomode::kPerm;
  if (n.mode & gomode::kSetuid) mode |= 04000;
  if (n.mode & gomode::kSetgid) mode |= 02000;
  if (n.mode & gomode::kSticky) mode |= 01000;
  return mode;
}

Status WriteNode(Repository& repo, const Node& n, const std::string& path, const DumpSink& out) {
  TarHeader h;
  h.name = path.substr(1);
  h.mode = TarMode(n);
  h.uid = n.uid;
  h.gid = n.gid;
  h.uname = n.user;
  h.gname = n.group;
  h.mtime = RoundedSeconds(n.mtime);
  h.size = n.size;
  h.type = '\0';
  if (n.type == NodeType::kFile) h.type = '0';
  if (n.type == NodeType::kSymlink) {
    h.type = '2';
    h.linkname = n.linktarget;
  }
  if (n.type == NodeType::kDir) {
    h.type = '5';
    h.name += "/";
  }
  if (n.type != NodeType::kFile) h.size = 0;
  STASH_RETURN_IF_ERROR(WriteHeader(h, out));
  if (n.type != NodeType::kFile) return Status::Ok();
  uint64_t written = 0;
  STASH_RETURN_IF_ERROR(DumpFile(repo, n, [&](ByteView data) {
    written += data.size();
    return out(data);
  }));
  if (written != n.size) {
    return Corrupt("file " + path + ": content is " + std::to_string(written) +
                   " bytes, its node says " + std::to_string(n.size));
  }
  return out(AsBytes(Padding(written)));
}

Status WalkTar(Repository& repo, const Id& tree_id, const std::string& prefix, const DumpSink& out) {
  STASH_ASSIGN_OR_RETURN(Tree tree, repo.LoadTree(tree_id));
  for (const auto& n : tree.nodes) {
    std::string path = prefix + "/" + n.name;
    STASH_RETURN_IF_ERROR(WriteNode(repo, n, path, out));
    if (n.type == NodeType::kDir && n.subtree) {
      STASH_RETURN_IF_ERROR(WalkTar(repo, *n.subtree, path, out));
    }
  }
  return Status::Ok();
}

}  // namespace

Status DumpFile(Repository& repo, const Node& file, const DumpSink& out) {
  if (!file.content) return Status::Ok();
  for (const Id& blob : *file.content) {
    STASH_ASSIGN_OR_RETURN(Bytes data, repo.LoadBlob(BlobType::kData, blob));
    STASH_RETURN_IF_ERROR(out(data));
  }
  return Status::Ok();
}

Status DumpTar(Repository& repo, const Id& tree, const std::string& prefix, const DumpSink& out) {
  std::string p = prefix;
  while (!p.empty() && p.back() == '/') p.pop_back();
  STASH_RETURN_IF_ERROR(WalkTar(repo, tree, p, out));
  return out(AsBytes(std::string(2 * kBlock, '\0')));
}

}  // namespace stash
