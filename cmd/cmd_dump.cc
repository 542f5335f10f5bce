// stash dump: a file of a snapshot to stdout, a folder as a tar archive.
#include <cstdio>
#include <iostream>

#include "cmd/commands.h"
#include "engine/dump.h"

namespace stash::cli {
namespace {

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    std::string part = path.substr(start, slash - start);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = slash + 1;
  }
  return parts;
}

Status WriteStdout(ByteView data) {
  if (data.empty()) return Status::Ok();
  if (std::fwrite(data.data(), 1, data.size(), stdout) != data.size()) {
    return IOError("cannot write to standard output");
  }
  return Status::Ok();
}

// restic leaves with exit code 2 and no "Fatal:" when the path is wrong.
int CannotDump(const std::string& message) {
  std::cerr << "cannot dump file: " << message << "\n";
  return 2;
}

int Dump(Repository& repo, const Id& root, const std::string& path, bool zip) {
  auto parts = SplitPath(path);
  Id tree = root;
  std::string prefix;
  for (size_t i = 0; i < parts.size(); ++i) {
    auto loaded = repo.LoadTree(tree);
    if (!loaded.ok()) return Fatal(loaded.error());
    std::string here = prefix + "/" + parts[i];
    const Node* found = nullptr;
    for (const auto& n : loaded->nodes) {
      if (n.name == parts[i]) found = &n;
    }
    if (!found) return CannotDump("path \"" + here + "\" not found in snapshot");
    bool last = i + 1 == parts.size();
    if (found->type == NodeType::kDir && found->subtree) {
      tree = *found->subtree;
      prefix = here;
      continue;
    }
    if (!last || found->type != NodeType::kFile) {
      return CannotDump("\"" + here + "\" should be a file, but is a \"" +
                        NodeTypeName(found->type) + "\"");
    }
    auto dumped = DumpFile(repo, *found, WriteStdout);
    if (!dumped.ok()) return Fatal(dumped.error());
    return kExitOk;
  }
  auto dumped = zip ? DumpZip(repo, tree, prefix, WriteStdout) : DumpTar(repo, tree, prefix, WriteStdout);
  if (!dumped.ok()) return Fatal(dumped.error());
  return kExitOk;
}

int RunDump(const Args& args, const Globals& g) {
  if (args.positional().size() != 2) return Fatal("no file and no snapshot ID specified");
  std::string archive = args.Get("archive", "tar");
  if (archive != "tar" && archive != "zip") return Fatal("unknown archive format \"" + archive + "\"");
  auto repo = OpenRepository(args, g);
  if (!repo.ok()) return Fatal(repo.error());
  auto lock = LockRepository(**repo, args, LockMode::kShared);
  if (!lock.ok()) return Fatal(lock.error());
  auto entry = FindSnapshot(**repo, args.positional()[0], FilterFromArgs(args));
  if (!entry.ok()) return Fatal(entry.error());
  auto index = (*repo)->LoadIndex();
  if (!index.ok()) return Fatal(index.error());
  int rc = Dump(**repo, entry->second.tree, args.positional()[1], archive == "zip");
  std::fflush(stdout);
  return rc;
}

}  // namespace

Command DumpCommand() {
  return {"dump", "Print a backed-up file to stdout",
          WithFilterFlags({{"archive", 'a', true, "set archive format as \"tar\" or \"zip\" (default \"tar\")"}}),
          RunDump, "[flags] snapshotID file"};
}

}  // namespace stash::cli
