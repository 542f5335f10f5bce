// Checker, structure phase: snapshots, the trees they reach, and the blobs
// those trees refer to. Node rules and messages follow restic 0.14's
// checker.checkTree.
#include <algorithm>
#include <set>

#include "engine/checker.h"
#include "base/go_json.h"
#include "base/in_order.h"
#include "base/thread_pool.h"

namespace stash {
namespace {

constexpr size_t kTreeReaders = kConcurrentRequests;
constexpr size_t kTreesPerRound = 8 * kTreeReaders;

// Go's %q, as restic's messages quote node names.
std::string Quoted(const std::string& name) {
  std::string q(1, '"');
  q += GoQuoteInner(name);
  q += '"';
  return q;
}

}  // namespace

CheckFindings Checker::CheckStructure() {
  CheckFindings out;
  used_.assign(entries_.size(), false);
  missing_trees_.clear();
  auto listed = repo_.backend().List(FileType::kSnapshot);
  if (!listed.ok()) {
    out.errors.push_back("listing snapshots: " + listed.error().message());
    return out;
  }
  std::sort(listed->begin(), listed->end(), [](auto& a, auto& b) { return a.name < b.name; });
  // Trees still to visit, each with who refers to it (for the message when
  // it is missing). Depth first; each tree is checked once.
  std::vector<std::pair<Id, std::string>> todo;
  std::vector<Id> ids;
  for (auto it = listed->rbegin(); it != listed->rend(); ++it) ids.push_back(*Id::FromHex(it->name));
  repo_.LoadSnapshots(ids, [&](const Id& id, Result<Snapshot>&& snapshot) {
    if (!snapshot.ok()) {
      out.errors.push_back(snapshot.error().message());  // names snapshots/<id>
    } else if (snapshot->tree.IsZero()) {
      out.errors.push_back("snapshots/" + id.Hex() + ": snapshot has no tree");
    } else {
      todo.emplace_back(snapshot->tree, "snapshot " + id.Hex());
    }
  });
  // Trees are taken in rounds of up to kTreesPerRound and read by
  // kTreeReaders threads, each reading an equal share one after another:
  // on a remote backend each read is a round trip, and shares rather than
  // single trees keep the hand-offs few where reads are cheap (a local
  // repository). Each round's trees are checked in the order taken, adding
  // their subtrees for later rounds.
  ThreadPool readers(kTreeReaders);
  std::vector<std::pair<Id, std::string>> round;
  while (!todo.empty()) {
    round.clear();
    while (!todo.empty() && round.size() < kTreesPerRound) {
      auto item = std::move(todo.back());
      todo.pop_back();
      auto [first, last] = Range(BlobType::kTree, item.first);
      if (first == last ? !missing_trees_.insert(item.first).second : used_[first]) continue;
      if (first != last) used_[first] = true;
      round.push_back(std::move(item));
    }
    if (round.empty()) continue;  // all taken were checked before: todo is empty now
    const size_t share = (round.size() + kTreeReaders - 1) / kTreeReaders;
    const size_t shares = (round.size() + share - 1) / share;
    using Trees = std::vector<Result<Tree>>;
    // Failures are passed on as values, so every tree of the round is checked.
    (void)LoadInOrder<Trees>(
        shares, kTreeReaders, readers,
        [&](size_t j) -> Result<Trees> {
          Trees trees;
          for (size_t i = j * share; i < std::min(round.size(), (j + 1) * share); ++i) {
            trees.push_back(LoadTree(round[i].first));
          }
          return trees;
        },
        [&](size_t j, Trees&& trees) {
          for (size_t k = 0; k < trees.size(); ++k) {
            const auto& [id, referrer] = round[j * share + k];
            if (!trees[k].ok()) {
              out.errors.push_back("tree " + id.Hex() + ": " + trees[k].error().message() +
                                   " (referenced by " + referrer + ")");
            } else {
              CheckTree(id, *trees[k], out, todo);
            }
          }
          return Status::Ok();
        });
  }
  return out;
}

// Like restic's LoadBlob, a copy that fails is skipped for the next one;
// the error of the last copy tried is returned.
Result<Tree> Checker::LoadTree(const Id& id) {
  auto [first, last] = Range(BlobType::kTree, id);
  if (first == last) return NotFound("not found in index");
  std::optional<Error> failed;
  for (size_t i = first; i < last; ++i) {
    const Entry& copy = entries_[i];
    const std::string pack = packs_[copy.pack()].id.Hex();
    std::string where = "pack " + pack;
    auto raw = repo_.backend().Read(FileType::kPack, pack, copy.offset, copy.length);
    if (!raw.ok()) {
      failed = raw.error().Wrap(where);
      continue;
    }
    auto plain = OpenPackedBlob(repo_.master_key(), *raw, copy.Blob());
    if (!plain.ok()) {
      failed = plain.error().Wrap(where);
      continue;
    }
    auto tree = DecodeTree(*plain);
    if (!tree.ok()) {
      failed = tree.error().Wrap(where);
      continue;
    }
    return std::move(*tree);
  }
  return *failed;
}

void Checker::CheckTree(const Id& id, const Tree& tree, CheckFindings& out,
                        std::vector<std::pair<Id, std::string>>& todo) {
  const std::string prefix = "tree " + id.Hex() + ": ";
  auto error = [&](const std::string& what) { out.errors.push_back(prefix + what); };
  for (const auto& node : tree.nodes) {
    const std::string name = Quoted(node.name);
    switch (node.type) {
      case NodeType::kFile:
        if (!node.content) {
          error("file " + name + " has nil blob list");
          break;
        }
        for (size_t i = 0; i < node.content->size(); ++i) {
          const Id& blob = (*node.content)[i];
          if (blob.IsZero()) {
            error("file " + name + " blob " + std::to_string(i) + " has null ID");
            continue;
          }
          auto [first, last] = Range(BlobType::kData, blob);
          if (first != last) used_[first] = true;
          if (first == last) {
            error("file " + name + " blob " + blob.Hex() + " not found in index");
          }
        }
        break;
      case NodeType::kDir:
        if (!node.subtree) {
          error("dir node " + name + " has no subtree");
        } else if (node.subtree->IsZero()) {
          error("dir node " + name + " subtree id is null");
        } else {
          todo.emplace_back(*node.subtree, "dir " + name + " in tree " + id.Hex());
        }
        break;
      default:
        // Symlinks, devices, fifos, sockets: nothing to check. Unknown
        // types already fail DecodeTree, which reports the tree.
        break;
    }
    if (node.name.empty()) error("node with empty name");
  }
}

std::vector<std::string> Checker::UnusedBlobs() const {
  // entries_ is sorted by type ("data" before "tree"), then id: the output
  // order, with each blob's first entry carrying its bit.
  std::vector<std::string> unused;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    if (i > 0 && entries_[i - 1].id == e.id && entries_[i - 1].type() == e.type()) continue;
    if (i >= used_.size() || !used_[i]) unused.push_back(std::string(BlobTypeName(e.type())) + " " + e.id.Hex());
  }
  return unused;
}

}  // namespace stash
