// Zip output of dump (--archive zip): entries stored uncompressed, each file
// streamed with a data descriptor, Unix modes and the extended timestamp
// Info-ZIP readers use; the layout Go's archive/zip writes.
#include <array>

#include "engine/dump.h"
#include "storage/tree.h"

namespace stash {
namespace {

uint32_t Crc32(uint32_t crc, ByteView data) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (uint8_t b : data) crc = table[(crc ^ b) & 0xff] ^ (crc >> 8);
  return ~crc;
}

void Put16(std::string& s, uint32_t v) {
  s += static_cast<char>(v & 0xff);
  s += static_cast<char>((v >> 8) & 0xff);
}
void Put32(std::string& s, uint32_t v) {
  Put16(s, v & 0xffff);
  Put16(s, v >> 16);
}

struct Entry {
  std::string name;
  uint16_t flags = 0, dos_time = 0, dos_date = 0;
  uint32_t crc = 0, size = 0, external = 0, offset = 0;
  std::string extra;
};

bool IsAscii(const std::string& s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

void DosTime(const Timestamp& t, Entry& e) {
  int64_t local = t.seconds + t.utc_offset;
  int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
  int64_t secs = local - days * 86400;
  // Civil date from days since 1970-01-01 (the days-from-civil inverse).
  int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9, y = yoe + era * 400 + (m <= 2);
  if (y < 1980) y = 1980, m = 1, d = 1, secs = 0;
  e.dos_date = static_cast<uint16_t>(((y - 1980) << 9) | (m << 5) | d);
  e.dos_time = static_cast<uint16_t>(((secs / 3600) << 11) | ((secs % 3600 / 60) << 5) | (secs % 60 / 2));
}

// Unix mode bits with the file type, as Go's FileHeader.SetMode stores them.
uint32_t UnixMode(const Node& n) {
  uint32_t mode = n.mode & gomode::kPerm;
  if (n.mode & gomode::kSetuid) mode |= 04000;
  if (n.mode & gomode::kSetgid) mode |= 02000;
  if (n.mode & gomode::kSticky) mode |= 01000;
  switch (n.type) {
    case NodeType::kDir: return mode | 0040000;
    case NodeType::kSymlink: return mode | 0120000;
    default: return mode | 0100000;
  }
}

class ZipWriter {
 public:
  ZipWriter(Repository& repo, const DumpSink& out) : repo_(repo), out_(out) {}

  Status Add(const Node& n, const std::string& path) {
    Entry e;
    e.name = path.substr(1) + (n.type == NodeType::kDir ? "/" : "");
    if (!IsAscii(e.name)) e.flags |= 0x800;  // UTF-8 name
    bool dir = n.type == NodeType::kDir;
    if (!dir) e.flags |= 0x8;  // sizes and CRC follow the data
    DosTime(n.mtime, e);
    Put16(e.extra, 0x5455);  // extended timestamp: modification time
    Put16(e.extra, 5);
    e.extra += '\1';
    Put32(e.extra, static_cast<uint32_t>(n.mtime.seconds));
    e.external = UnixMode(n) << 16 | (dir ? 0x10 : 0);
    e.offset = static_cast<uint32_t>(written_);
    std::string h;
    Put32(h, 0x04034b50);
    Put16(h, 20);
    Put16(h, e.flags);
    Put16(h, 0);  // stored
    Put16(h, e.dos_time);
    Put16(h, e.dos_date);
    Put32(h, 0);
    Put32(h, 0);
    Put32(h, 0);
    Put16(h, static_cast<uint32_t>(e.name.size()));
    Put16(h, static_cast<uint32_t>(e.extra.size()));
    h += e.name + e.extra;
    STASH_RETURN_IF_ERROR(Write(h));
    if (n.type == NodeType::kFile) {
      STASH_RETURN_IF_ERROR(DumpFile(repo_, n, [&](ByteView data) {
        e.crc = Crc32(e.crc, data);
        e.size += static_cast<uint32_t>(data.size());
        return Write(data);
      }));
    } else if (n.type == NodeType::kSymlink) {
      e.crc = Crc32(0, AsBytes(n.linktarget));
      e.size = static_cast<uint32_t>(n.linktarget.size());
      STASH_RETURN_IF_ERROR(Write(AsBytes(n.linktarget)));
    }
    if (!dir) {
      std::string d;
      Put32(d, 0x08074b50);
      Put32(d, e.crc);
      Put32(d, e.size);
      Put32(d, e.size);
      STASH_RETURN_IF_ERROR(Write(d));
    }
    entries_.push_back(std::move(e));
    return Status::Ok();
  }

  Status Finish() {
    uint64_t start = written_;
    for (const auto& e : entries_) {
      std::string c;
      Put32(c, 0x02014b50);
      Put16(c, 0x0314);  // made by Unix, zip 2.0
      Put16(c, 20);
      Put16(c, e.flags);
      Put16(c, 0);
      Put16(c, e.dos_time);
      Put16(c, e.dos_date);
      Put32(c, e.crc);
      Put32(c, e.size);
      Put32(c, e.size);
      Put16(c, static_cast<uint32_t>(e.name.size()));
      Put16(c, static_cast<uint32_t>(e.extra.size()));
      Put16(c, 0);
      Put16(c, 0);
      Put16(c, 0);
      Put32(c, e.external);
      Put32(c, e.offset);
      c += e.name + e.extra;
      STASH_RETURN_IF_ERROR(Write(c));
    }
    std::string end;
    Put32(end, 0x06054b50);
    Put16(end, 0);
    Put16(end, 0);
    Put16(end, static_cast<uint32_t>(entries_.size()));
    Put16(end, static_cast<uint32_t>(entries_.size()));
    Put32(end, static_cast<uint32_t>(written_ - start));
    Put32(end, static_cast<uint32_t>(start));
    Put16(end, 0);
    return Write(end);
  }

  Status CheckLimits() const {
    if (written_ > 0xffffffffu || entries_.size() > 0xffff) {
      return Unsupported("zip archives over 4 GiB or 65535 entries are not supported; use --archive tar");
    }
    return Status::Ok();
  }

 private:
  Status Write(std::string_view s) { return Write(AsBytes(s)); }
  Status Write(ByteView data) {
    written_ += data.size();
    return out_(data);
  }

  Repository& repo_;
  const DumpSink& out_;
  uint64_t written_ = 0;
  std::vector<Entry> entries_;
};

Status WalkZip(Repository& repo, const Id& tree_id, const std::string& prefix, ZipWriter& zip) {
  STASH_ASSIGN_OR_RETURN(Tree tree, repo.LoadTree(tree_id));
  for (const auto& n : tree.nodes) {
    std::string path = prefix + "/" + n.name;
    STASH_RETURN_IF_ERROR(zip.Add(n, path));
    STASH_RETURN_IF_ERROR(zip.CheckLimits());
    if (n.type == NodeType::kDir && n.subtree) STASH_RETURN_IF_ERROR(WalkZip(repo, *n.subtree, path, zip));
  }
  return Status::Ok();
}

}  // namespace

Status DumpZip(Repository& repo, const Id& tree, const std::string& prefix, const DumpSink& out) {
  std::string p = prefix;
  while (!p.empty() && p.back() == '/') p.pop_back();
  ZipWriter zip(repo, out);
  STASH_RETURN_IF_ERROR(WalkZip(repo, tree, p, zip));
  return zip.Finish();
}

}  // namespace stash
