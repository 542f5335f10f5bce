// stash prune: remove data no snapshot refers to any more.
#include <cstdio>
#include <iostream>

#include "cmd/commands.h"
#include "engine/prune.h"

namespace stash::cli {
namespace {

std::string Size(uint64_t n) {
  char buf[32];
  if (n < 1024) std::snprintf(buf, sizeof buf, "%llu B", (unsigned long long)n);
  else if (n < (1ull << 20)) std::snprintf(buf, sizeof buf, "%.3f KiB", n / 1024.0);
  else if (n < (1ull << 30)) std::snprintf(buf, sizeof buf, "%.3f MiB", n / 1048576.0);
  else std::snprintf(buf, sizeof buf, "%.3f GiB", n / 1073741824.0);
  return buf;
}

void PrintStats(const PruneStats& s, bool dry_run) {
  std::printf("\nused:          %10llu blobs / %s\n", (unsigned long long)s.blobs_used, Size(s.bytes_used).c_str());
  std::printf("unused:        %10llu blobs / %s\n", (unsigned long long)s.blobs_unused, Size(s.bytes_unused).c_str());
  std::printf("packs: %llu to delete, %llu to repack, %llu kept\n", (unsigned long long)s.packs_deleted,
              (unsigned long long)s.packs_repacked, (unsigned long long)s.packs_kept);
  if (dry_run) std::printf("\nWould have pruned the repository (dry run).\n");
}

}  // namespace

Result<PruneOptions> PruneOptionsFromArgs(const Args& args) {
  PruneOptions o;
  STASH_RETURN_IF_ERROR(ParseMaxUnused(args.Get("max-unused", "5%"), o));
  if (args.Has("max-repack-size")) {
    STASH_ASSIGN_OR_RETURN(o.max_repack_bytes, ParseByteSize(args.Get("max-repack-size")));
  }
  o.repack_cacheable_only = args.Has("repack-cacheable-only");
  o.repack_small = args.Has("repack-small");
  o.repack_uncompressed = args.Has("repack-uncompressed");
  o.dry_run = args.Has("dry-run");
  return o;
}

std::vector<FlagSpec> PruneFlags() {
  return {{"max-unused", 0, true, "tolerate this much unused data: N%, a size, or 'unlimited' (default 5%)"},
          {"max-repack-size", 0, true, "repack at most this much data"},
          {"repack-cacheable-only", 0, false, "only repack packs which are cacheable (tree packs)"},
          {"repack-small", 0, false, "repack packs below 80% of the target pack size"},
          {"repack-uncompressed", 0, false, "repack all uncompressed data"},
          {"dry-run", 'n', false, "do not modify the repository, just print what would be done"}};
}

int RunPruneOn(Repository& repo, const PruneOptions& options, const Globals& g) {
  PruneLog log;
  if (!g.quiet && !g.json) log = [](const std::string& m) { std::cout << m << "\n" << std::flush; };
  auto stats = Prune(repo, options, log);
  if (!stats.ok()) return Fatal(stats.error());
  if (!g.quiet && !g.json) PrintStats(*stats, options.dry_run);
  return kExitOk;
}

namespace {

int RunPrune(const Args& args, const Globals& g) {
  auto options = PruneOptionsFromArgs(args);
  if (!options.ok()) return Fatal(options.error());
  auto repo = OpenRepository(args, g);
  if (!repo.ok()) return Fatal(repo.error());
  auto lock = LockRepository(**repo, args, LockMode::kExclusive);
  if (!lock.ok()) return Fatal(lock.error());
  return RunPruneOn(**repo, *options, g);
}

}  // namespace

Command PruneCommand() {
  return {"prune", "Remove unneeded data from the repository", PruneFlags(), RunPrune};
}

}  // namespace stash::cli
