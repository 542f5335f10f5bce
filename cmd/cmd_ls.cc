// stash ls: list the files in a snapshot.
#include <cstdio>
#include <iostream>

#include "cmd/commands.h"
#include "engine/paths.h"
#include "storage/go_json.h"

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

Status Walk(Repository& repo, const Id& tree_id, const std::string& prefix, const Globals& g,
            bool long_format) {
  STASH_ASSIGN_OR_RETURN(Tree tree, repo.LoadTree(tree_id));
  for (const auto& n : tree.nodes) {
    std::string path = prefix + "/" + n.name;
    if (g.json) {
      std::cout << NodeJson(n, path) << "\n";
    } else if (long_format) {
      PrintLong(n, path);
    } else {
      std::cout << path << "\n";
    }
    if (n.type == NodeType::kDir && n.subtree) {
      STASH_RETURN_IF_ERROR(Walk(repo, *n.subtree, path, g, long_format));
    }
  }
  return Status::Ok();
}

int RunLs(const Args& args, const Globals& g) {
  if (args.positional().empty()) return Fatal("no snapshot ID specified, specify snapshot ID or use special ID 'latest'");
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
    std::string paths;
    for (size_t i = 0; i < snap.paths.size(); ++i) paths += (i ? " " : "") + snap.paths[i];
    std::cerr << "snapshot " << id.Short() << " of [" << paths << "] at "
              << FormatRfc3339Nano(snap.time) << "):\n";
  }
  auto walked = Walk(**repo, snap.tree, "", g, args.Has("long"));
  if (!walked.ok()) return Fatal(walked.error());
  return kExitOk;
}

}  // namespace

Command LsCommand() {
  return {"ls", "List files in a snapshot",
          WithFilterFlags({{"long", 'l', false, "use a long listing format"}}),
          RunLs};
}

}  // namespace stash::cli
