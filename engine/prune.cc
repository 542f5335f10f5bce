#include "engine/prune.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "storage/compression.h"

namespace stash {
namespace {

// restic finalizes index files at this many blobs.
constexpr size_t kMaxBlobsPerIndexFile = 50000;

// A bit per indexed blob, by the Index's ordinals: a few bits per blob
// where a hash set of ids would take about 70 bytes.
class BlobBits {
 public:
  explicit BlobBits(const Index& index) : index_(index), bits_(index.BlobCount()) {}
  // Sets the blob's bit; false if it was set already. A blob the index
  // lacks is never set (callers check Has first).
  bool Insert(BlobType type, const Id& id) {
    auto n = index_.Ordinal(type, id);
    if (!n || bits_[*n]) return false;
    bits_[*n] = true;
    return true;
  }
  bool Contains(BlobType type, const Id& id) const {
    auto n = index_.Ordinal(type, id);
    return n && bits_[*n];
  }

 private:
  const Index& index_;
  std::vector<bool> bits_;
};

enum class Action { kKeep, kRepack, kDelete };

struct PackPlan {
  Id id;
  std::vector<PackedBlob> blobs;
  uint64_t used_bytes = 0, unused_bytes = 0;
  size_t used_blobs = 0, unused_blobs = 0;
  bool has_data = false, has_tree = false, has_uncompressed = false;
  Action action = Action::kKeep;
  uint64_t IndexedSize() const { return used_bytes + unused_bytes + PackHeaderSize(blobs); }
};

// Every blob that some snapshot needs: the trees reachable from the
// snapshots and the data blobs their files list.
Result<BlobBits> FindUsedBlobs(Repository& repo, const std::function<void(const std::string&)>& log) {
  if (log) log("loading all snapshots...");
  STASH_ASSIGN_OR_RETURN(auto snapshots, repo.LoadAllSnapshots());
  if (log) log("finding data that is still in use for " + std::to_string(snapshots.size()) + " snapshots");
  BlobBits used(repo.index());
  std::vector<Id> todo;
  for (const auto& [id, s] : snapshots) todo.push_back(s.tree);
  while (!todo.empty()) {
    Id tree_id = todo.back();
    todo.pop_back();
    if (repo.index().Has(BlobType::kTree, tree_id) && !used.Insert(BlobType::kTree, tree_id)) continue;
    auto tree = repo.LoadTree(tree_id);
    if (!tree.ok()) return tree.error().Wrap("cannot prune: a snapshot needs tree " + tree_id.Hex());
    for (const auto& node : tree->nodes) {
      if (node.subtree) todo.push_back(*node.subtree);
      for (const Id& blob : node.content.value_or(std::vector<Id>{})) {
        if (!repo.index().Has(BlobType::kData, blob)) {
          return NotFound("cannot prune: data blob " + blob.Hex() + " of \"" + node.name +
                          "\" in tree " + tree_id.Hex() + " is not in the index");
        }
        used.Insert(BlobType::kData, blob);
      }
    }
  }
  return used;
}

class Pruner {
 public:
  Pruner(Repository& repo, const PruneOptions& options, const PruneReport& report)
      : repo_(repo), opt_(options), report_(report) {}

  Result<PruneStats> Run() {
    Log("loading indexes...");
    STASH_RETURN_IF_ERROR(repo_.LoadIndex());
    STASH_ASSIGN_OR_RETURN(index_files_, repo_.LoadIndexFiles());
    STASH_ASSIGN_OR_RETURN(BlobBits used, FindUsedBlobs(repo_, report_.message));
    used_.emplace(std::move(used));
    Log("searching used packs...");
    STASH_RETURN_IF_ERROR(PlanPacks());
    Log("collecting packs for deletion and repacking");
    ChooseRepacks();
    if (report_.planned) report_.planned(stats_);
    if (opt_.dry_run) return stats_;
    STASH_RETURN_IF_ERROR(DeleteUnreferenced());
    STASH_RETURN_IF_ERROR(Repack());
    // As restic: the index is rewritten only when some pack it names goes.
    if (IndexChanges()) STASH_RETURN_IF_ERROR(RewriteIndex());
    STASH_RETURN_IF_ERROR(DeletePacks());
    Log("done");
    return stats_;
  }

 private:
  void Log(const std::string& m) { if (report_.message) report_.message(m); }

  bool IndexChanges() const {
    return std::any_of(plans_.begin(), plans_.end(), [](const PackPlan& p) { return p.action != Action::kKeep; });
  }

  // Classifies each pack by how much of it is still used. A blob stored
  // twice counts as used once; the other copies are garbage.
  Status PlanPacks() {
    STASH_ASSIGN_OR_RETURN(auto listed, repo_.backend().List(FileType::kPack));
    std::unordered_map<Id, uint64_t> actual;
    for (const auto& f : listed) actual[*Id::FromHex(f.name)] = f.size;
    std::map<Id, PackPlan> plans;  // ordered, so results do not depend on hash order
    // The blob lists move into the plans: only the files' ids stay.
    for (auto& [file_id, file] : index_files_) {
      for (auto& p : file.packs) {
        if (!plans.count(p.id)) plans[p.id] = PackPlan{p.id, std::move(p.blobs)};
      }
      file.packs = {};
    }
    BlobBits counted(repo_.index());
    for (auto& [id, plan] : plans) {
      for (const auto& b : plan.blobs) {
        bool used = used_->Contains(b.type, b.id) && counted.Insert(b.type, b.id);
        (used ? plan.used_bytes : plan.unused_bytes) += b.length;
        (used ? plan.used_blobs : plan.unused_blobs)++;
        (b.type == BlobType::kTree ? plan.has_tree : plan.has_data) = true;
        if (!b.compressed()) plan.has_uncompressed = true;
      }
      auto it = actual.find(id);
      if (it == actual.end()) {
        if (plan.used_blobs) return NotFound("cannot prune: pack " + id.Hex() + " is missing but still needed");
        plan.action = Action::kDelete;  // dropped from the index, nothing to remove
        missing_.insert(id);
      } else if (it->second != plan.IndexedSize()) {
        if (plan.used_blobs) {
          return Corrupt("cannot prune: pack " + id.Hex() + " has size " + std::to_string(it->second) +
                         " but the index says " + std::to_string(plan.IndexedSize()));
        }
        plan.action = Action::kDelete;
      } else if (plan.used_blobs == 0) {
        plan.action = Action::kDelete;
      }
      actual.erase(id);
    }
    // Packs no index mentions: leftovers of an interrupted backup or prune.
    for (const auto& [id, size] : actual) {
      unreferenced_.push_back(id);
      stats_.bytes_freed += size;
      stats_.bytes_unreferenced += size;
    }
    for (auto& [id, plan] : plans) plans_.push_back(std::move(plan));
    for (const auto& p : plans_) {
      stats_.blobs_used += p.used_blobs;
      stats_.blobs_unused += p.unused_blobs;
      stats_.bytes_used += p.used_bytes;
      stats_.bytes_unused += p.unused_bytes;
    }
    return Status::Ok();
  }

  static bool IsDataPack(const PackPlan& p) { return p.has_data && !p.has_tree; }

  // Format 2 wants trees compressed, and data too with --repack-uncompressed.
  bool MustCompress(const PackPlan& p) const {
    if (repo_.config().version < 2 || !p.has_uncompressed) return false;
    return (p.has_tree && !p.has_data) || opt_.repack_uncompressed;
  }

  // The unused bytes --max-unused tolerates: "5%" means 5% of all the
  // bytes left, so 5/95 of the used ones (restic's reading).
  std::optional<double> MaxUnusedAfter() const {
    if (opt_.max_unused_bytes) return static_cast<double>(*opt_.max_unused_bytes);
    if (opt_.max_unused_fraction < 0) return std::nullopt;  // unlimited
    return opt_.max_unused_fraction * static_cast<double>(stats_.bytes_used);
  }

  // restic's choice (docs/repository-format.md, 9.2): packs nothing uses
  // are deleted; packs that are fully used, not mixed and need no
  // compressing are kept, unless small (and then repacked only if there
  // are at least ten such); the others are candidates. Candidates holding
  // trees go first, then small ones, then the emptiest; tree and mixed
  // packs and those to compress are always repacked, the others until the
  // unused bytes left are within --max-unused. --max-repack-size bounds it all.
  void ChooseRepacks() {
    const uint64_t target = opt_.repack_small ? kDefaultPackSize / 5 * 4 : kDefaultPackSize / 25;
    std::vector<PackPlan*> candidates, small;
    uint64_t unused_after = stats_.bytes_unused;
    for (auto& p : plans_) {
      if (p.action == Action::kDelete) {
        unused_after -= p.unused_bytes;
        continue;
      }
      if (opt_.repack_cacheable_only && IsDataPack(p)) continue;
      if (p.unused_blobs == 0 && !(p.has_data && p.has_tree) && !MustCompress(p)) {
        if (p.IndexedSize() < target) small.push_back(&p);
        continue;
      }
      candidates.push_back(&p);
    }
    if (small.size() >= 10) candidates.insert(candidates.end(), small.begin(), small.end());
    auto used_size = [](const PackPlan* p) { return p->IndexedSize() - p->unused_bytes; };  // with its header
    std::stable_sort(candidates.begin(), candidates.end(), [&](const PackPlan* a, const PackPlan* b) {
      if (IsDataPack(*a) != IsDataPack(*b)) return !IsDataPack(*a);
      const bool a_small = a->IndexedSize() < target, b_small = b->IndexedSize() < target;
      if (a_small != b_small) return a_small;
      return a->unused_bytes * used_size(b) > b->unused_bytes * used_size(a);
    });
    const std::optional<double> limit = MaxUnusedAfter();
    uint64_t repacked = 0;
    for (auto* p : candidates) {
      const bool within_limit = !limit || static_cast<double>(unused_after) < *limit;
      if (opt_.max_repack_bytes - std::min(opt_.max_repack_bytes, repacked) <= p->IndexedSize()) continue;
      if (IsDataPack(*p) && !MustCompress(*p) && within_limit && p->IndexedSize() >= target) continue;
      p->action = Action::kRepack;
      repacked += p->IndexedSize();
      unused_after -= p->unused_bytes;
    }
    for (const auto& p : plans_) {
      if (p.action == Action::kKeep) stats_.packs_kept++;
      if (p.action == Action::kRepack) {
        stats_.packs_repacked++;
        stats_.blobs_repack += p.used_blobs + p.unused_blobs;
        stats_.bytes_repack += p.IndexedSize();
        stats_.blobs_repack_removed += p.unused_blobs;
        stats_.bytes_repack_removed += p.unused_bytes;
      }
      if (p.action == Action::kDelete) {
        if (!missing_.count(p.id)) stats_.packs_deleted++;
        stats_.blobs_delete += p.unused_blobs;
        stats_.bytes_delete += p.unused_bytes;
      }
    }
    stats_.packs_deleted += unreferenced_.size();
    stats_.packs_unreferenced = unreferenced_.size();
  }

  // Pack files no index names go first: nothing can need them.
  Status DeleteUnreferenced() {
    if (unreferenced_.empty()) return Status::Ok();
    Log("deleting unreferenced packs");
    std::vector<std::string> names;
    for (const Id& id : unreferenced_) names.push_back(id.Hex());
    return RemoveFiles(repo_.backend(), FileType::kPack, names, /*missing_ok=*/true);
  }

  // Copies the still used blobs of repacked packs into new packs.
  Status Repack() {
    BlobBits kept(repo_.index());  // blobs that survive in kept packs need no copy
    for (const auto& p : plans_) {
      if (p.action != Action::kKeep) continue;
      for (const auto& b : p.blobs) kept.Insert(b.type, b.id);
    }
    if (stats_.packs_repacked) Log("repacking packs");
    PackWriter data(repo_.master_key(), repo_.temp_dir()), tree(repo_.master_key(), repo_.temp_dir());
    for (const auto& p : plans_) {
      if (p.action != Action::kRepack) continue;
      STASH_ASSIGN_OR_RETURN(Bytes pack, repo_.backend().Read(FileType::kPack, p.id.Hex()));
      for (const auto& b : p.blobs) {
        if (!used_->Contains(b.type, b.id) || !kept.Insert(b.type, b.id)) continue;
        STASH_ASSIGN_OR_RETURN(Bytes plain, DecodeBlob(pack, p.id, b));
        PackWriter& w = b.type == BlobType::kTree ? tree : data;
        STASH_RETURN_IF_ERROR(w.AddPlaintext(b.type, b.id, plain, repo_.blob_zstd_level()));
        if (w.Size() >= kDefaultPackSize) STASH_RETURN_IF_ERROR(WritePack(w));
      }
      stats_.bytes_freed += p.unused_bytes;
    }
    STASH_RETURN_IF_ERROR(WritePack(data));
    return WritePack(tree);
  }

  Result<Bytes> DecodeBlob(const Bytes& pack, const Id& pack_id, const PackedBlob& b) {
    std::string where = std::string(BlobTypeName(b.type)) + " blob " + b.id.Hex() + " in pack " + pack_id.Hex();
    if (uint64_t{b.offset} + b.length > pack.size()) return Corrupt(where + ": beyond the end of the pack");
    auto plain = Open(repo_.master_key(), ByteView(pack).subspan(b.offset, b.length));
    if (!plain.ok()) return plain.error().Wrap(where);
    if (b.compressed()) {
      auto unz = ZstdDecompress(*plain, b.uncompressed_length);
      if (!unz.ok()) return unz.error().Wrap(where);
      plain = std::move(*unz);
    }
    if (Sha256(*plain) != b.id) return Corrupt(where + ": content does not match its id");
    return std::move(*plain);
  }

  Status WritePack(PackWriter& w) {
    if (w.Empty()) return Status::Ok();
    STASH_ASSIGN_OR_RETURN(PackFile file, w.Finish());
    STASH_RETURN_IF_ERROR(repo_.backend().WriteFromFile(FileType::kPack, file.id.Hex(), file.fd(), file.size()));
    new_packs_.push_back({file.id, std::move(file.blobs)});
    return Status::Ok();
  }

  // A complete new index (kept packs plus new ones), then the old files go.
  // A crash in between leaves duplicates in the index, which is harmless.
  Status RewriteIndex() {
    Log("rebuilding index");
    std::vector<IndexedPack> packs = std::move(new_packs_);
    for (const auto& p : plans_) {
      if (p.action == Action::kKeep) packs.push_back({p.id, p.blobs});
    }
    IndexFile file;
    size_t blobs = 0;
    for (auto& p : packs) {
      blobs += p.blobs.size();
      file.packs.push_back(std::move(p));
      if (blobs >= kMaxBlobsPerIndexFile) {
        STASH_RETURN_IF_ERROR(SaveIndex(file));
        blobs = 0;
      }
    }
    if (!file.packs.empty()) STASH_RETURN_IF_ERROR(SaveIndex(file));
    Log("deleting obsolete index files");
    std::vector<std::string> obsolete;
    for (const auto& [id, f] : index_files_) obsolete.push_back(id.Hex());
    STASH_RETURN_IF_ERROR(RemoveFiles(repo_.backend(), FileType::kIndex, obsolete, /*missing_ok=*/false));
    stats_.index_files_deleted += obsolete.size();
    return Status::Ok();
  }

  Status SaveIndex(IndexFile& file) {
    auto saved = repo_.SaveFile(FileType::kIndex, AsBytes(EncodeIndexFile(file)));
    if (!saved.ok()) return saved.error();
    stats_.index_files_written++;
    file.packs.clear();
    return Status::Ok();
  }

  Status DeletePacks() {
    std::vector<Id> doomed;
    for (const auto& p : plans_) {
      if (p.action == Action::kKeep || missing_.count(p.id)) continue;
      doomed.push_back(p.id);
      if (p.action == Action::kDelete) stats_.bytes_freed += p.used_bytes + p.unused_bytes;
    }
    if (!doomed.empty()) Log("removing " + std::to_string(doomed.size()) + " old packs");
    std::vector<std::string> names;
    for (const Id& id : doomed) names.push_back(id.Hex());
    return RemoveFiles(repo_.backend(), FileType::kPack, names, /*missing_ok=*/true);
  }

  Repository& repo_;
  const PruneOptions& opt_;
  const PruneReport& report_;
  std::vector<std::pair<Id, IndexFile>> index_files_;
  std::optional<BlobBits> used_;
  std::vector<PackPlan> plans_;
  std::vector<Id> unreferenced_;
  std::unordered_set<Id> missing_;
  std::vector<IndexedPack> new_packs_;
  PruneStats stats_;
};

}  // namespace

Result<uint64_t> ParseByteSize(const std::string& text) {
  size_t pos = 0;
  unsigned long long n = 0;
  try {
    n = std::stoull(text, &pos);
  } catch (...) {
    return Invalid("invalid size \"" + text + "\"");
  }
  std::string unit = text.substr(pos);
  uint64_t mult = 1;
  if (unit == "k" || unit == "K") mult = 1ull << 10;
  else if (unit == "m" || unit == "M") mult = 1ull << 20;
  else if (unit == "g" || unit == "G") mult = 1ull << 30;
  else if (unit == "t" || unit == "T") mult = 1ull << 40;
  else if (!unit.empty() && unit != "b" && unit != "B") return Invalid("invalid size \"" + text + "\"");
  return static_cast<uint64_t>(n) * mult;
}

Status ParseMaxUnused(const std::string& text, PruneOptions& options) {
  if (text == "unlimited") {
    options.max_unused_fraction = -1;
    return Status::Ok();
  }
  if (!text.empty() && text.back() == '%') {
    try {
      size_t pos = 0;
      double pct = std::stod(text.substr(0, text.size() - 1), &pos);
      if (pos != text.size() - 1 || pct < 0) throw 0;
      if (pct >= 100) return Invalid("invalid --max-unused \"" + text + "\": a percentage must be below 100%");
      options.max_unused_fraction = pct / (100 - pct);
      return Status::Ok();
    } catch (...) {
      return Invalid("invalid --max-unused \"" + text + "\"");
    }
  }
  auto bytes = ParseByteSize(text);
  if (!bytes.ok()) return Invalid("invalid --max-unused \"" + text + "\" (want N%, a size or unlimited)");
  options.max_unused_bytes = *bytes;
  return Status::Ok();
}

Result<PruneStats> Prune(Repository& repo, const PruneOptions& options, const PruneReport& report) {
  return Pruner(repo, options, report).Run();
}

}  // namespace stash
