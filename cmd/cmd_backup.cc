// stash backup: save files and folders as a new snapshot.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>

#include "cmd/commands.h"
#include "cmd/progress.h"
#include "engine/archiver.h"
#include "engine/polynomial.h"
#include "storage/go_json.h"

namespace stash::cli {
namespace {

void PrintJsonSummary(const BackupSummary& s) {
  std::ostringstream o;
  o << "{\"message_type\":\"summary\",\"files_new\":" << s.files_new
    << ",\"files_changed\":" << s.files_changed << ",\"files_unmodified\":" << s.files_unmodified
    << ",\"dirs_new\":" << s.dirs_new << ",\"dirs_changed\":" << s.dirs_changed
    << ",\"dirs_unmodified\":" << s.dirs_unmodified << ",\"data_blobs\":" << s.data_blobs
    << ",\"tree_blobs\":" << s.tree_blobs << ",\"data_added\":" << s.data_added
    << ",\"total_files_processed\":" << s.total_files_processed
    << ",\"total_bytes_processed\":" << s.total_bytes_processed
    << ",\"total_duration\":" << s.total_duration << ",\"snapshot_id\":\""
    << s.snapshot_id.Short() << "\"}\n";
  std::cout << o.str();
}

void PrintTextSummary(const BackupSummary& s, uint64_t stored) {
  std::printf("\nFiles:       %5llu new, %5llu changed, %5llu unmodified\n",
              (unsigned long long)s.files_new, (unsigned long long)s.files_changed,
              (unsigned long long)s.files_unmodified);
  std::printf("Dirs:        %5llu new, %5llu changed, %5llu unmodified\n",
              (unsigned long long)s.dirs_new, (unsigned long long)s.dirs_changed,
              (unsigned long long)s.dirs_unmodified);
  std::printf("Added to the repository: %s (%s stored)\n\n", FormatBytes(s.data_added).c_str(),
              FormatBytes(stored).c_str());
  std::printf("processed %llu files, %s in %.1fs\n", (unsigned long long)s.total_files_processed,
              FormatBytes(s.total_bytes_processed).c_str(), s.total_duration);
  std::printf("snapshot %s saved\n", s.snapshot_id.Short().c_str());
}

int RunBackup(const Args& args, const Globals& g) {
  if (args.positional().empty()) return Fatal("nothing to backup, please specify target files/dirs");
  auto excludes = PathFilter::Compile(args.GetAll("exclude"));
  if (!excludes.ok()) return Fatal(excludes.error());
  auto repo = OpenRepository(args, g);
  if (!repo.ok()) return Fatal(repo.error());
  uint64_t pol = (*repo)->config().chunker_polynomial;
  if (PolynomialDegree(pol) != 53 || !PolynomialIrreducible(pol)) {
    return Fatal("config: invalid chunker polynomial " + PolynomialToHex(pol));
  }
  auto lock = LockRepository(**repo, args, LockMode::kShared);
  if (!lock.ok()) return Fatal(lock.error());
  auto loaded = (*repo)->LoadIndex();
  if (!loaded.ok()) return Fatal(loaded.error());

  BackupOptions options;
  options.targets = args.positional();
  options.hostname = args.Get("host", HostName());
  for (const auto& t : args.GetAll("tag")) {
    // --tag a,b adds both tags, as restic's TagLists do.
    std::stringstream ss(t);
    std::string tag;
    while (std::getline(ss, tag, ',')) {
      if (!tag.empty()) options.tags.push_back(tag);
    }
  }
  if (args.Has("time")) {
    auto t = ParseRfc3339(args.Get("time"));
    if (!t) return Fatal("invalid --time \"" + args.Get("time") + "\" (want RFC 3339)");
    options.time = *t;
  }
  options.excludes = std::move(*excludes);
  options.with_atime = args.Has("with-atime");
  options.force = args.Has("force");
  options.ignore_inode = args.Has("ignore-inode");
  options.ignore_ctime = args.Has("ignore-ctime");
  if (args.Has("parent")) {
    auto parent = FindSnapshot(**repo, args.Get("parent"), {});
    if (!parent.ok()) return Fatal(parent.error().Wrap("--parent"));
    options.parent = parent->first;
  }
  ChunkerTables tables(pol);
  BackupProgress progress;
  Result<BackupResult> result = Invalid("backup did not run");
  {
    std::optional<ProgressPrinter> printer;
    if (g.json && !g.quiet) {
      printer.emplace(progress, ProgressPrinter::Mode::kJson, std::chrono::seconds(1));
    } else if (!g.quiet && ::isatty(STDOUT_FILENO)) {
      printer.emplace(progress, ProgressPrinter::Mode::kTerminal, std::chrono::milliseconds(250));
    }
    result = Backup(**repo, tables, options, &progress);
  }
  if (!result.ok()) return Fatal(result.error());
  if (!g.json && !g.quiet && result->summary.parent) {
    std::printf("using parent snapshot %s\n", result->summary.parent->Short().c_str());
  }
  for (const auto& w : result->warnings) {
    if (g.json) {
      std::string line = "{\"message_type\":\"error\",\"error\":{\"message\":";
      AppendGoJsonString(line, w.message);
      line += "},\"during\":\"archival\",\"item\":";
      AppendGoJsonString(line, w.path);
      std::cout << line << "}\n";
    } else {
      std::cerr << "error: " << w.path << ": " << w.message << "\n";
    }
  }
  if (g.json) {
    PrintJsonSummary(result->summary);
  } else if (!g.quiet) {
    PrintTextSummary(result->summary, (*repo)->write_stats().data_added_packed);
  }
  if (!result->warnings.empty()) {
    std::cerr << "Warning: at least one source file could not be read\n";
    return kExitPartial;
  }
  return kExitOk;
}

}  // namespace

Command BackupCommand() {
  return {"backup", "Create a new backup of files and/or directories",
          {{"host", 'H', true, "hostname to record in the snapshot"},
           {"tag", 0, true, "add tags for the new snapshot (a,b or repeated)"},
           {"exclude", 'e', true, "exclude a pattern (can be repeated)"},
           {"time", 0, true, "time of the snapshot (RFC 3339) instead of now"},
           {"with-atime", 0, false, "store the atime of files and folders"},
           {"parent", 0, true, "use this parent snapshot (default: latest with the same host and paths)"},
           {"force", 'f', false, "read all files, even those unchanged since the parent snapshot"},
           {"ignore-inode", 0, false, "ignore inode number changes when checking for modified files"},
           {"ignore-ctime", 0, false, "ignore ctime changes when checking for modified files"}},
          RunBackup};
}

}  // namespace stash::cli
