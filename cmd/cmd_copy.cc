// stash copy: copy snapshots and the blobs they need from another
// repository (--from-repo) into the --repo one. A copy keeps the source's
// persistent id in "original", and a snapshot the destination already holds
// a similar copy of is skipped, as restic 0.14 does.
#include <stdio.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>

#include "cmd/commands.h"

namespace stash::cli {
namespace {

Result<std::unique_ptr<Repository>> OpenSource(const Args& args) {
  STASH_ASSIGN_OR_RETURN(std::string location, RepositoryLocation(args, kSourceRepository));
  if (location.empty()) {
    return Invalid("Please specify a source repository location (--from-repo or --from-repository-file)");
  }
  STASH_ASSIGN_OR_RETURN(auto backend, BackendFor(location));
  STASH_ASSIGN_OR_RETURN(auto password, GivenPassword(args, kSourceRepository));
  if (!password || password->empty()) {
    return Invalid("no password for the source repository (--from-password-file, --from-password-command or RESTIC_FROM_PASSWORD)");
  }
  return Repository::Open(std::move(backend), *password, KeyHint(args, kSourceRepository));
}

// restic's similarSnapshots: all but parent and original agree.
bool Similar(const Snapshot& a, const Snapshot& b) {
  if (a.time != b.time || a.tree != b.tree || a.hostname != b.hostname || a.username != b.username ||
      a.uid != b.uid || a.gid != b.gid || a.paths.size() != b.paths.size() ||
      a.excludes != b.excludes || a.tags.size() != b.tags.size()) {
    return false;
  }
  std::set<std::string> pa(a.paths.begin(), a.paths.end()), ta(a.tags.begin(), a.tags.end());
  for (const auto& p : b.paths) {
    if (!pa.count(p)) return false;
  }
  for (const auto& t : b.tags) {
    if (!ta.count(t)) return false;
  }
  return true;
}

// Go's time.Time.String() for the times restic prints here.
std::string GoTimeString(const Timestamp& t) {
  std::string s = FormatTableTime(t);
  if (t.nanos) {
    std::string frac = std::to_string(1000000000u + t.nanos).substr(1);
    while (frac.back() == '0') frac.pop_back();
    s += "." + frac;
  }
  int off = t.utc_offset;
  char zone[16];
  std::snprintf(zone, sizeof zone, " %c%02d%02d", off < 0 ? '-' : '+', std::abs(off) / 3600,
                std::abs(off) % 3600 / 60);
  return s + zone + (off == 0 ? " UTC" : zone);
}

class TreeCopier {
 public:
  TreeCopier(Repository& src, Repository& dst) : src_(src), dst_(dst) {}

  // Copies the blobs under `tree` the destination lacks; counts the source
  // packs they come from.
  Status Copy(const Id& tree) {
    if (!visited_.insert(tree).second) return Status::Ok();
    STASH_RETURN_IF_ERROR(CopyBlob(BlobType::kTree, tree));
    STASH_ASSIGN_OR_RETURN(Tree t, src_.LoadTree(tree));
    for (const auto& n : t.nodes) {
      if (n.type == NodeType::kFile && n.content) {
        for (const auto& id : *n.content) STASH_RETURN_IF_ERROR(CopyBlob(BlobType::kData, id));
      }
      if (n.type == NodeType::kDir && n.subtree) STASH_RETURN_IF_ERROR(Copy(*n.subtree));
    }
    return Status::Ok();
  }

  size_t TakePackCount() {
    size_t n = packs_.size();
    packs_.clear();
    return n;
  }

 private:
  Status CopyBlob(BlobType type, const Id& id) {
    if (dst_.HasBlob(type, id)) return Status::Ok();
    if (auto where = src_.index().Lookup(type, id)) packs_.insert(where->pack);
    STASH_ASSIGN_OR_RETURN(Bytes plain, src_.LoadBlob(type, id));
    STASH_ASSIGN_OR_RETURN(bool added, dst_.SaveBlob(type, id, plain));
    (void)added;
    return Status::Ok();
  }

  Repository& src_;
  Repository& dst_;
  std::set<Id> visited_;
  std::set<Id> packs_;
};

Result<std::vector<SnapshotEntry>> SourceSnapshots(Repository& src, const Args& args) {
  std::vector<SnapshotEntry> chosen;
  auto filter = FilterFromArgs(args);
  if (args.positional().empty()) {
    STASH_ASSIGN_OR_RETURN(auto all, src.LoadAllSnapshots());
    for (auto& e : all) {
      if (MatchesFilter(e.second, filter)) chosen.push_back(std::move(e));
    }
    SortByTime(chosen);
    return chosen;
  }
  for (const auto& spec : args.positional()) {
    STASH_ASSIGN_OR_RETURN(auto entry, FindSnapshot(src, spec, filter));
    chosen.push_back(std::move(entry));
  }
  return chosen;
}

// Destination snapshots by the source id they are copies of (their
// "original", and their own id for copies of copies).
Result<std::map<Id, std::vector<SnapshotEntry>>> DestinationByOriginal(Repository& dst, const Args& args) {
  std::map<Id, std::vector<SnapshotEntry>> by;
  STASH_ASSIGN_OR_RETURN(auto all, dst.LoadAllSnapshots());
  auto filter = FilterFromArgs(args);
  for (auto& e : all) {
    if (!MatchesFilter(e.second, filter)) continue;
    if (e.second.original) by[*e.second.original].push_back(e);
    by[e.first].push_back(e);
  }
  return by;
}

Status CopyAll(Repository& src, Repository& dst, const Args& args, const Globals& g) {
  STASH_RETURN_IF_ERROR(src.LoadIndex());
  STASH_RETURN_IF_ERROR(dst.LoadIndex());
  STASH_ASSIGN_OR_RETURN(auto existing, DestinationByOriginal(dst, args));
  STASH_ASSIGN_OR_RETURN(auto snapshots, SourceSnapshots(src, args));
  bool talk = !g.quiet && !g.json;
  TreeCopier copier(src, dst);
  for (auto [id, sn] : snapshots) {
    if (talk) {
      std::string paths;
      for (size_t i = 0; i < sn.paths.size(); ++i) paths += (i ? " " : "") + sn.paths[i];
      std::cout << "\nsnapshot " << id.Short() << " of [" << paths << "] at " << GoTimeString(sn.time) << ")\n";
    }
    Id original = sn.original.value_or(id);
    const SnapshotEntry* copy = nullptr;
    if (auto it = existing.find(original); it != existing.end()) {
      for (const auto& e : it->second) {
        if (!copy && Similar(e.second, sn)) copy = &e;
      }
    }
    if (copy) {
      if (talk) {
        std::cout << "skipping source snapshot " << id.Short() << ", was already copied to snapshot "
                  << copy->first.Short() << "\n";
      }
      continue;
    }
    if (talk) std::cout << "  copy started, this may take a while...\n";
    auto start = std::chrono::steady_clock::now();
    STASH_RETURN_IF_ERROR(copier.Copy(sn.tree));
    STASH_RETURN_IF_ERROR(dst.Flush());
    size_t packs = copier.TakePackCount();
    if (talk) {
      auto secs = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count();
      std::printf("[%lld:%02lld] 100.00%%  %zu / %zu packs copied\n\n", (long long)secs / 60,
                  (long long)secs % 60, packs, packs);
      std::fflush(stdout);
    }
    sn.parent.reset();
    sn.original = original;
    STASH_ASSIGN_OR_RETURN(Id saved, dst.SaveSnapshot(sn));
    if (talk) std::cout << "snapshot " << saved.Short() << " saved\n";
  }
  return Status::Ok();
}

int RunCopy(const Args& args, const Globals& g) {
  auto src = OpenSource(args);
  if (!src.ok()) return Fatal(src.error());
  auto dst = OpenRepository(args, g);
  if (!dst.ok()) return Fatal(dst.error());
  auto src_lock = LockRepository(**src, args, LockMode::kShared);
  if (!src_lock.ok()) return Fatal(src_lock.error());
  auto dst_lock = LockRepository(**dst, args, LockMode::kShared);
  if (!dst_lock.ok()) return Fatal(dst_lock.error());
  auto copied = CopyAll(**src, **dst, args, g);
  if (!copied.ok()) return Fatal(copied.error());
  return kExitOk;
}

}  // namespace

Command CopyCommand() {
  return {"copy", "Copy snapshots from one repository to another",
          WithFilterFlags(
              {{"from-repo", 0, true, "source repository to copy snapshots from (default: $RESTIC_FROM_REPOSITORY)"},
               {"from-repository-file", 0, true, "file from which to read the source repository location (default: $RESTIC_FROM_REPOSITORY_FILE)"},
               {"from-password-file", 0, true, "file to read the source repository password from (default: $RESTIC_FROM_PASSWORD_FILE)"},
               {"from-password-command", 0, true, "shell command to obtain the source repository password from (default: $RESTIC_FROM_PASSWORD_COMMAND)"},
               {"from-key-hint", 0, true, "key ID of key to try decrypting the source repository first (default: $RESTIC_FROM_KEY_HINT)"}}),
          RunCopy, "[flags] [snapshotID ...]"};
}

}  // namespace stash::cli
