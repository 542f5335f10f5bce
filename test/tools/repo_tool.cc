// repo_tool: makes repositories that stash itself refuses to write, for the
// bad-input tests: an unknown format version, a snapshot of a hostile tree.
//
//   repo_tool set-config-version REPO PASSWORD N
//   repo_tool hostile-snapshot REPO PASSWORD OUTSIDE-PATH
//   repo_tool add-snapshots REPO PASSWORD FILE
//
// add-snapshots writes one snapshot per line of FILE, "TIME HOST TAGS PATHS"
// (RFC 3339 time, tags and paths comma-separated, "-" for no tags), all
// pointing at the tree of a snapshot already in REPO: a quick way to build
// long histories for the forget tests.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "storage/backends/local_backend.h"
#include "storage/repository.h"

using namespace stash;

namespace {

int Fail(const std::string& msg) {
  std::cerr << "repo_tool: " << msg << "\n";
  return 2;
}

Result<std::unique_ptr<Repository>> OpenRepo(const std::string& path, const std::string& pw) {
  return Repository::Open(std::make_unique<LocalBackend>(path), pw);
}

int SetConfigVersion(const std::string& path, const std::string& pw, int version) {
  auto repo = OpenRepo(path, pw);
  if (!repo.ok()) return Fail(repo.error().message());
  RepoConfig config = (*repo)->config();
  config.version = version;
  Bytes sealed = Seal((*repo)->master_key(), AsBytes(EncodeRepoConfig(config)));
  auto& backend = (*repo)->backend();
  if (!backend.Remove(FileType::kConfig, "config").ok()) return Fail("cannot remove config");
  if (!backend.Write(FileType::kConfig, "config", sealed).ok()) return Fail("cannot write config");
  return 0;
}

Node FileNode(const std::string& name, const std::vector<Id>& content, uint64_t size) {
  Node n;
  n.name = name;
  n.type = NodeType::kFile;
  n.mode = 0644;
  n.content = content;
  n.size = size;
  return n;
}

Node DirNode(const std::string& name, const Id& subtree) {
  Node n;
  n.name = name;
  n.type = NodeType::kDir;
  n.mode = gomode::kDir | 0755;
  n.subtree = subtree;
  return n;
}

Node LinkNode(const std::string& name, const std::string& target) {
  Node n;
  n.name = name;
  n.type = NodeType::kSymlink;
  n.mode = gomode::kSymlink | 0777;
  n.linktarget = target;
  return n;
}

// A tree that tries every way out of the restore target we know of.
int HostileSnapshot(const std::string& path, const std::string& pw, const std::string& outside) {
  auto opened = OpenRepo(path, pw);
  if (!opened.ok()) return Fail(opened.error().message());
  Repository& repo = **opened;
  if (!repo.LoadIndex().ok()) return Fail("cannot load index");
  Bytes payload = ToBytes("pwned\n");
  Id blob = Sha256(payload);
  if (!repo.SaveBlob(BlobType::kData, blob, payload).ok()) return Fail("save blob");

  Tree inner;
  inner.nodes.push_back(FileNode("escaped", {blob}, payload.size()));
  auto inner_id = repo.SaveTree(inner);
  // A folder that is really a symlink to the outside, then a folder of the
  // same name whose file would land outside if the link were followed.
  Tree root;
  root.nodes.push_back(DirNode("..", *inner_id));
  root.nodes.push_back(DirNode(".", *inner_id));
  root.nodes.push_back(FileNode("", {blob}, payload.size()));
  root.nodes.push_back(FileNode("a/../../escaped-slash", {blob}, payload.size()));
  root.nodes.push_back(LinkNode("link", outside));
  root.nodes.push_back(DirNode("link", *inner_id));
  root.nodes.push_back(FileNode("ok.txt", {blob}, payload.size()));
  auto root_id = repo.SaveTree(root);
  if (!root_id.ok() || !repo.Flush().ok()) return Fail("save tree");
  Snapshot s;
  s.time = Timestamp::Now();
  s.tree = *root_id;
  s.paths = {"/hostile"};
  s.hostname = "attacker";
  auto id = repo.SaveSnapshot(s);
  if (!id.ok()) return Fail("save snapshot");
  std::cout << id->Hex() << "\n";
  return 0;
}

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string part; std::getline(ss, part, ',');) out.push_back(part);
  return out;
}

int AddSnapshots(const std::string& path, const std::string& pw, const std::string& file) {
  auto opened = OpenRepo(path, pw);
  if (!opened.ok()) return Fail(opened.error().message());
  Repository& repo = **opened;
  auto existing = repo.LoadAllSnapshots();
  if (!existing.ok() || existing->empty()) return Fail("add-snapshots needs one snapshot to take a tree from");
  std::ifstream in(file);
  if (!in) return Fail("cannot read " + file);
  int added = 0;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string time, host, tags, paths;
    if (!(fields >> time >> host >> tags >> paths)) continue;
    Snapshot s;
    auto t = ParseRfc3339(time);
    if (!t) return Fail("bad time in line: " + line);
    s.time = *t;
    s.tree = existing->front().second.tree;
    s.hostname = host;
    s.username = "tester";
    if (tags != "-") s.tags = SplitCommas(tags);
    s.paths = SplitCommas(paths);
    if (!repo.SaveSnapshot(s).ok()) return Fail("cannot save snapshot for line: " + line);
    ++added;
  }
  std::cout << added << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "set-config-version" && argc == 5) return SetConfigVersion(argv[2], argv[3], std::stoi(argv[4]));
  if (cmd == "hostile-snapshot" && argc == 5) return HostileSnapshot(argv[2], argv[3], argv[4]);
  if (cmd == "add-snapshots" && argc == 5) return AddSnapshots(argv[2], argv[3], argv[4]);
  return Fail("usage: repo_tool set-config-version REPO PASSWORD N | hostile-snapshot REPO PASSWORD OUTSIDE"
              " | add-snapshots REPO PASSWORD FILE");
}
