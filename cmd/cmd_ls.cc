// stash ls: list the files in a snapshot.
#include <cstdio>
#include <iostream>

#include "cmd/commands.h"
#include "cmd/snapshot_table.h"
#include "engine/paths.h"
#include "base/go_json.h"
#include "base/go_time.h"

namespace stash::cli {
namespace {

std::string NodeJson(const Node& n, const std::string& path) {
  std::string o = "{\"name\":";
  AppendGoJsonString(o, n.name);
  o += ",\"type\":\"" + std::string(NodeTypeName(n.type)) + "\",\"path\":";
  AppendGoJsonString(o, path);
  o += ",\"uid\":" + std::to_string(n.uid) + ",\"gid\":" + std::to_string(n.gid);
  if (n.type == NodeType::kFile) o += ",\"size\":" + std::to_string(n.size);
  o += ",\"mode\":" + std::to_string(n.mode) + ",\"permissions\":\"" + ModeString(n.mode) +
       "\",\"mtime\":\"" + FormatRfc3339Nano(n.mtime) + "\",\"atime\":\"" +
       FormatRfc3339Nano(n.atime) + "\",\"ctime\":\"" + FormatRfc3339Nano(n.ctime) +
       "\",\"struct_type\":\"node\"}";
  return o;
}

void PrintLong(const Node& n, const std::string& path) {
  std::string line = ModeString(n.mode);
  char buf[64];
  std::snprintf(buf, sizeof buf, " %5u %5u %6llu ", n.uid, n.gid, (unsigned long long)n.size);
  line += buf + FormatTableTime(n.mtime) + " " + path;
  if (n.type == NodeType::kSymlink) line += " -> " + n.linktarget;
  std::cout << line << "\n";
}

// The folders named after the snapshot id: only nodes in them are listed
// (with --recursive at any depth, else the folder and what it holds), and
// the walk enters only folders on the way to one of them.
struct DirFilter {
  std::vector<std::string> dirs;  // cleaned
  bool recursive = false;

  // Path `p` is `base` or below it, component by component.
  static bool Under(const std::string& base, const std::string& p) {
    if (base == "/") return true;
    return p.compare(0, base.size(), base) == 0 && (p.size() == base.size() || p[base.size()] == '/');
  }
  bool Within(const std::string& p) const {
    if (dirs.empty()) return true;
    for (const auto& d : dirs) {
      if (Under(d, p)) return true;
    }
    return false;
  }
  bool Approaching(const std::string& p) const {
    if (dirs.empty()) return true;
    for (const auto& d : dirs) {
      if (Under(p, d)) return true;
    }
    return false;
  }
};

Status Walk(Repository& repo, const Id& tree_id, const std::string& prefix, const Globals& g,
            bool long_format, const DirFilter& filter) {
  STASH_ASSIGN_OR_RETURN(Tree tree, repo.LoadTree(tree_id));
  for (const auto& n : tree.nodes) {
    std::string path = prefix + "/" + n.name;
    bool within = filter.Within(path);
    if (!within) {
    } else if (g.json) {
      std::cout << NodeJson(n, path) << "\n";
    } else if (long_format) {
      PrintLong(n, path);
    } else {
      std::cout << path << "\n";
    }
    bool descend = (within && filter.recursive) || filter.Approaching(path);
    if (descend && n.type == NodeType::kDir && n.subtree) {
      STASH_RETURN_IF_ERROR(Walk(repo, *n.subtree, path, g, long_format, filter));
    }
  }
  return Status::Ok();
}

// Go's fmt of a []string: "[a b]".
std::string GoList(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& s : list) out += (out.empty() ? "" : " ") + s;
  return "[" + out + "]";
}

// restic's "snapshot ID of [paths] filtered by [dirs] at TIME):" on
// stdout, left out with --quiet; the time is Go's String() of the stored one.
void PrintHeader(const Id& id, const Snapshot& snap, const Args& args, const Globals& g) {
  if (g.quiet) return;
  std::vector<std::string> dirs(args.positional().begin() + 1, args.positional().end());
  std::cout << "snapshot " << id.Short() << " of " << GoList(snap.paths) << " filtered by "
            << GoList(dirs) << " at " << GoTimeString(snap.time) << "):\n";
}

int RunLs(const Args& args, const Globals& g) {
  if (args.positional().empty()) return Fatal("no snapshot ID specified, specify snapshot ID or use special ID 'latest'");
  DirFilter filter;
  filter.recursive = args.Has("recursive");
  for (size_t i = 1; i < args.positional().size(); ++i) {
    const std::string& dir = args.positional()[i];
    if (dir.empty() || dir[0] != '/') return Fatal("All path filters must be absolute, starting with a forward slash '/'");
    filter.dirs.push_back(CleanPath(dir));
  }
  auto repo = OpenRepository(args, g);
  if (!repo.ok()) return Fatal(repo.error());
  auto entry = FindSnapshot(**repo, args.positional()[0], FilterFromArgs(args));
  if (!entry.ok()) return Fatal(entry.error());
  auto index = (*repo)->LoadIndex();
  if (!index.ok()) return Fatal(index.error());
  const auto& [id, snap] = *entry;
  if (g.json) {
    std::string head = EncodeSnapshotListEntry(snap, id);
    head.pop_back();
    std::cout << head << ",\"struct_type\":\"snapshot\"}\n";
  } else {
    PrintHeader(id, snap, args, g);
  }
  auto walked = Walk(**repo, snap.tree, "", g, args.Has("long"), filter);
  if (!walked.ok()) return Fatal(walked.error());
  return kExitOk;
}

}  // namespace

Command LsCommand() {
  return {"ls", "List files in a snapshot",
          WithFilterFlags({{"long", 'l', false, "use a long listing format"},
                           {"recursive", 0, false, "include files in subfolders of the listed directories"}}),
          RunLs, "[flags] snapshotID [dir...]"};
}

}  // namespace stash::cli
