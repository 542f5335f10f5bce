// stash prune: remove data no snapshot refers to any more.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "base/format_bytes.h"
#include "cmd/commands.h"
#include "engine/prune.h"

namespace stash::cli {
namespace {

// restic's formatPercent: "12.34%", capped at 100, empty for a zero whole.
std::string Percent(uint64_t part, uint64_t whole) {
  if (whole == 0) return "";
  double percent = std::min(100.0, 100.0 * static_cast<double>(part) / static_cast<double>(whole));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%3.2f%%", percent);
  return buf;
}

std::string Line(const char* label, uint64_t blobs, uint64_t bytes) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%-14s%10llu blobs / ", label, static_cast<unsigned long long>(blobs));
  return buf + FormatBytes(bytes) + "\n";
}

// The plan as restic 0.14 prints it before it changes anything.
void PrintPlan(const PruneStats& s) {
  const uint64_t total_blobs = s.blobs_used + s.blobs_unused;
  const uint64_t total_bytes = s.bytes_used + s.bytes_unused + s.bytes_unreferenced;
  const uint64_t removed_blobs = s.blobs_delete + s.blobs_repack_removed;
  const uint64_t removed_bytes = s.bytes_delete + s.bytes_repack_removed + s.bytes_unreferenced;
  const uint64_t remaining = total_bytes - removed_bytes;
  const uint64_t unused_after = s.bytes_unused - s.bytes_delete - s.bytes_repack_removed;
  std::cout << "\n"
            << Line("to repack:", s.blobs_repack, s.bytes_repack)
            << Line("this removes:", s.blobs_repack_removed, s.bytes_repack_removed)
            << Line("to delete:", s.blobs_delete, s.bytes_delete + s.bytes_unreferenced)
            << Line("total prune:", removed_blobs, removed_bytes)
            << Line("remaining:", total_blobs - removed_blobs, remaining)
            << "unused size after prune: " << FormatBytes(unused_after) << " ("
            << Percent(unused_after, remaining) << " of remaining size)\n\n"
            << std::flush;
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
  PruneReport report;
  if (!g.quiet && !g.json) {
    report.message = [](const std::string& m) { std::cout << m << "\n" << std::flush; };
    report.planned = PrintPlan;
  }
  auto stats = Prune(repo, options, report);
  if (!stats.ok()) return Fatal(stats.error());
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
