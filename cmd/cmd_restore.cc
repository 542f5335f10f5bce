// stash restore: write a snapshot back to disk.
#include <unistd.h>

#include <chrono>
#include <iostream>

#include "cmd/commands.h"
#include "engine/paths.h"
#include "engine/restorer.h"
#include "engine/verify_restore.h"
#include "base/go_time.h"

namespace stash::cli {

namespace {

// restic names a problem by its place in the restored tree ("/dir/file"),
// not on disk.
std::string SnapshotLocation(const std::string& path, const std::string& target) {
  if (target == "/") return path;
  if (path == target) return "/";
  if (path.compare(0, target.size() + 1, target + "/") == 0) return path.substr(target.size());
  return path;
}

// Go's Duration.String() of a duration rounded to milliseconds.
std::string GoDuration(std::chrono::milliseconds d) {
  long long ms = d.count();
  if (ms == 0) return "0s";
  if (ms < 1000) return std::to_string(ms) + "ms";
  std::string out;
  if (ms >= 60000) {
    out = std::to_string(ms / 60000) + "m";
    ms %= 60000;
  }
  std::string frac = std::to_string(1000 + ms % 1000).substr(1);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return out + std::to_string(ms / 1000) + (frac.empty() ? "" : "." + frac) + "s";
}

// --verify: the restored files read back and compared with the snapshot.
int Verify(Repository& repo, const Snapshot& snapshot, const RestoreOptions& options,
           const Globals& g) {
  bool talk = !g.quiet;
  if (talk) std::cout << "verifying files in " << options.target << "\n";
  auto start = std::chrono::steady_clock::now();
  auto verified = VerifyRestore(repo, snapshot, options);
  if (!verified.ok()) return Fatal(verified.error());
  for (const auto& p : verified->problems) {
    std::cerr << "ignoring error for " << p.path << ": " << p.message << "\n";
  }
  if (!verified->problems.empty()) {
    return Fatal("There were " + std::to_string(verified->problems.size()) + " errors");
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  if (talk) {
    std::cout << "finished verifying " << verified->files << " files in " << options.target
              << " (took " << GoDuration(took) << ")\n";
  }
  return kExitOk;
}

int RunRestore(const Args& args, const Globals& g) {
  if (args.positional().size() != 1) {
    return Fatal("exactly one snapshot ID needed (or 'latest'), optionally as ID:subfolder");
  }
  RestoreOptions options;
  options.target = args.Get("target");
  if (options.target.empty()) return Fatal("please specify a directory to restore to (--target)");
  auto include = PathFilter::Compile(args.GetAll("include"), args.GetAll("iinclude"));
  if (!include.ok()) return Fatal(include.error());
  auto exclude = PathFilter::Compile(args.GetAll("exclude"), args.GetAll("iexclude"));
  if (!exclude.ok()) return Fatal(exclude.error());
  if (!include->Empty() && !exclude->Empty()) {
    return Fatal("exclude and include patterns are mutually exclusive");
  }
  options.include = std::move(*include);
  options.exclude = std::move(*exclude);
  options.restore_owner = ::geteuid() == 0;

  std::string spec = args.positional()[0];
  if (auto colon = spec.find(':'); colon != std::string::npos) {
    options.subfolder = spec.substr(colon + 1);
    spec = spec.substr(0, colon);
  }
  auto repo = OpenRepository(args, g);
  if (!repo.ok()) return Fatal(repo.error());
  auto entry = FindSnapshot(**repo, spec, FilterFromArgs(args));
  if (!entry.ok()) return Fatal(entry.error());
  auto index = (*repo)->LoadIndex();
  if (!index.ok()) return Fatal(index.error());
  if (!g.quiet && !g.json) {
    // restic 0.18's words (0.14 wrapped the same in "<Snapshot ...>").
    const Snapshot& sn = entry->second;
    std::string paths;
    for (const auto& p : sn.paths) paths += (paths.empty() ? "" : " ") + p;
    std::cout << "restoring snapshot " << entry->first.Short() << " of [" << paths << "] at "
              << FormatGoTimeString(sn.time) << " by " << sn.username << "@" << sn.hostname << " to "
              << options.target << "\n";
  }
  auto result = Restore(**repo, entry->second, options);
  if (!result.ok()) return Fatal(result.error());
  std::string target = AbsolutePath(options.target);
  for (const auto& w : result->warnings) {
    std::cerr << "ignoring error for " << SnapshotLocation(w.path, target) << ": " << w.message << "\n";
  }
  if (g.json) {
    std::cout << "{\"message_type\":\"summary\",\"files_restored\":" << result->summary.files
              << ",\"dirs_restored\":" << result->summary.dirs
              << ",\"bytes_restored\":" << result->summary.bytes << "}\n";
  }
  if (!result->warnings.empty()) {
    return Fatal("There were " + std::to_string(result->warnings.size()) + " errors");
  }
  if (args.Has("verify")) return Verify(**repo, entry->second, options, g);
  return kExitOk;
}

}  // namespace

Command RestoreCommand() {
  return {"restore", "Extract the data from a snapshot",
          WithFilterFlags({{"target", 't', true, "directory to extract data to"},
                            {"include", 'i', true, "include a pattern (can be repeated)"},
                            {"exclude", 'e', true, "exclude a pattern (can be repeated)"},
                            {"iinclude", 0, true, "same as --include but ignores the casing of filenames"},
                            {"iexclude", 0, true, "same as --exclude but ignores the casing of filenames"},
                            {"verify", 0, false, "verify restored files content"}}),
          RunRestore, "[flags] snapshotID"};
}

}  // namespace stash::cli
