// stash backup: save files and folders (or standard input) as a new
// snapshot, with restic 0.14's flags, messages and exit codes.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>

#include "cmd/backup_inputs.h"
#include "cmd/commands.h"
#include "cmd/progress.h"
#include "engine/archiver.h"
#include "base/child_process.h"
#include "engine/backup_stdin.h"
#include "engine/polynomial.h"
#include "base/go_json.h"
#include "base/go_time.h"

namespace stash::cli {
namespace {

void PrintJsonSummary(const BackupSummary& s, bool dry_run) {
  std::ostringstream o;
  o << "{\"message_type\":\"summary\",\"files_new\":" << s.files_new
    << ",\"files_changed\":" << s.files_changed << ",\"files_unmodified\":" << s.files_unmodified
    << ",\"dirs_new\":" << s.dirs_new << ",\"dirs_changed\":" << s.dirs_changed
    << ",\"dirs_unmodified\":" << s.dirs_unmodified << ",\"data_blobs\":" << s.data_blobs
    << ",\"tree_blobs\":" << s.tree_blobs << ",\"data_added\":" << s.data_added
    << ",\"data_added_packed\":" << s.data_added_packed
    << ",\"total_files_processed\":" << s.total_files_processed
    << ",\"total_bytes_processed\":" << s.total_bytes_processed
    << ",\"total_duration\":" << s.total_duration << ",\"backup_start\":\""
    << FormatRfc3339Nano(s.backup_start) << "\",\"backup_end\":\"" << FormatRfc3339Nano(s.backup_end) << '"';
  if (!s.skipped) o << ",\"snapshot_id\":\"" << s.snapshot_id.Short() << "\"";
  if (dry_run) o << ",\"dry_run\":true";
  o << "}\n";
  std::cout << o.str();
}

void PrintTextSummary(const BackupSummary& s, uint64_t stored, bool dry_run) {
  std::printf("\nFiles:       %5llu new, %5llu changed, %5llu unmodified\n",
              (unsigned long long)s.files_new, (unsigned long long)s.files_changed,
              (unsigned long long)s.files_unmodified);
  std::printf("Dirs:        %5llu new, %5llu changed, %5llu unmodified\n",
              (unsigned long long)s.dirs_new, (unsigned long long)s.dirs_changed,
              (unsigned long long)s.dirs_unmodified);
  std::printf("%s to the repository: %s (%s stored)\n\n", dry_run ? "Would add" : "Added",
              FormatBytes(s.data_added).c_str(), FormatBytes(stored).c_str());
  std::printf("processed %llu files, %s in %s\n", (unsigned long long)s.total_files_processed,
              FormatBytes(s.total_bytes_processed).c_str(), Clock(s.total_duration).c_str());
  if (dry_run) return;
  if (s.skipped) {
    std::printf("skipped creating snapshot\n");
  } else {
    std::printf("snapshot %s saved\n", s.snapshot_id.Short().c_str());
  }
}

// Warnings as they happen: "error: <message>" or restic's JSON error line.
std::function<void(const BackupWarning&)> WarningPrinter(bool json) {
  return [json](const BackupWarning& w) {
    if (!json) {
      std::cerr << "error: " << w.message << "\n";
      return;
    }
    std::string line = "{\"message_type\":\"error\",\"error\":{\"message\":";
    AppendGoJsonString(line, w.message);
    line += "},\"during\":\"archival\",\"item\":";
    AppendGoJsonString(line, w.path);
    std::cerr << line << "}\n";
  };
}

// An error from reading the flags: restic's own checks print "Fatal: ...",
// errors from the system are printed as they are.
int Report(const InputError& e) {
  if (e.fatal) return Fatal(e.message);
  std::cerr << e.message << "\n";
  return kExitError;
}

bool PasswordFromStdin(const Args& args) {
  auto unset = [](const char* env) { return std::getenv(env) == nullptr || !*std::getenv(env); };
  return !args.Has("password-file") && !args.Has("password-command") && unset("RESTIC_PASSWORD") &&
         unset("RESTIC_PASSWORD_FILE") && unset("RESTIC_PASSWORD_COMMAND");
}

// --read-concurrency, else RESTIC_READ_CONCURRENCY, else 2 (restic >= 0.16).
std::optional<InputError> ReadConcurrency(const Args& args, size_t& workers) {
  std::string flag = args.Get("read-concurrency");
  const char* env = std::getenv("RESTIC_READ_CONCURRENCY");
  std::string text = !flag.empty() ? flag : env ? env : "";
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  unsigned long long n = std::strtoull(text.c_str(), &end, 10);
  if (text[0] < '0' || text[0] > '9' || *end != '\0' || n > 0xFFFFFFFFull) {
    std::string why = "strconv.ParseUint: parsing \"" + text + "\": invalid syntax";
    if (!flag.empty()) return InputError{"invalid argument \"" + text + "\" for \"--read-concurrency\" flag: " + why, false};
    return InputError{"invalid value for RESTIC_READ_CONCURRENCY \"" + text + "\": " + why};
  }
  if (n > 0) workers = static_cast<size_t>(n);
  return std::nullopt;
}

// Everything BackupOptions takes from the flags but the parent snapshot.
std::optional<InputError> FillOptions(const Args& args, BackupOptions& o) {
  o.hostname = args.Get("host", args.Get("hostname", HostName()));
  o.tags = SplitTags(args.GetAll("tag"));
  if (args.Has("time")) {
    auto t = ParseBackupTime(args.Get("time"));
    if (auto* e = std::get_if<InputError>(&t)) return *e;
    o.time = std::get<Timestamp>(t);
  }
  o.snapshot_excludes = args.GetAll("exclude");
  o.with_atime = args.Has("with-atime");
  o.force = args.Has("force");
  // --ignore-inode implies --ignore-ctime, as in restic (FUSE changes both).
  o.ignore_inode = args.Has("ignore-inode");
  o.ignore_ctime = args.Has("ignore-ctime") || o.ignore_inode;
  o.skip_if_unchanged = args.Has("skip-if-unchanged");
  return ReadConcurrency(args, o.file_workers);
}

Result<BackupResult> RunEngine(Repository& repo, const Args& args, const Globals& g,
                               const BackupOptions& options) {
  ChunkerTables tables(repo.config().chunker_polynomial);
  auto names = args.GetAll("stdin-filename");  // may be "", which restic refuses
  const std::string name = names.empty() ? "stdin" : names.back();
  if (args.Has("stdin-from-command")) {
    // restic 0.17: the command's standard output is the file; a command
    // that fails fails the backup before the snapshot is saved.
    STASH_ASSIGN_OR_RETURN(ChildProcess child, SpawnChild(args.positional(), ChildPipe::kStdout));
    auto result = BackupStream(repo, tables, options, child.fd, name, [&] { return WaitChild(child); });
    Status waited = WaitChild(child);  // after an earlier failure: reap it
    if (result.ok() && !waited.ok()) return waited.error();
    return result;
  }
  if (args.Has("stdin")) return BackupStream(repo, tables, options, STDIN_FILENO, name);
  BackupProgress progress;
  std::optional<ProgressPrinter> printer;
  if (g.json && !g.quiet) {
    printer.emplace(progress, ProgressPrinter::Mode::kJson, std::chrono::seconds(1));
  } else if (!g.quiet && ::isatty(STDOUT_FILENO)) {
    printer.emplace(progress, ProgressPrinter::Mode::kTerminal, std::chrono::milliseconds(250));
  }
  // Without a printer nobody reads the progress: no counting scan beside
  // the backup (it would stat every entry a second time).
  return Backup(repo, tables, options, printer ? &progress : nullptr);
}

int Finish(const Result<BackupResult>& result, const BackupOptions& options, Repository& repo,
           const Globals& g, bool dry_run) {
  if (options.selection) {
    for (const auto& n : options.selection->TakeNotices()) std::cerr << n << "\n";
  }
  if (!result.ok()) return Fatal("unable to save snapshot: " + result.error().message());
  if (g.json) {
    PrintJsonSummary(result->summary, dry_run);
  } else if (!g.quiet) {
    PrintTextSummary(result->summary, repo.write_stats().data_added_packed, dry_run);
  }
  if (!result->warnings.empty()) {
    std::cerr << "Warning: at least one source file could not be read\n";
    return kExitPartial;
  }
  return kExitOk;
}

// restic's words for a --parent that names no snapshot or several.
std::string ParentError(const std::string& prefix, const Error& e) {
  std::string why = e.kind() == ErrorKind::kNotFound   ? "no matching ID found for prefix \"" + prefix + "\""
                    : e.kind() == ErrorKind::kConflict ? "multiple IDs with prefix \"" + prefix + "\" found"
                                                       : e.message();
  return "invalid id \"" + prefix + "\": " + why;
}

// Opens, checks and locks the repository, finds the parent: everything
// between reading the flags and walking the files.
int RunBackup(const Args& args, const Globals& g) {
  if (args.Has("restic-name")) return RunSidecarBackup(args);
  if (auto e = CheckBackupFlags(args, PasswordFromStdin(args))) return Report(*e);
  if (args.Has("hostname")) std::cerr << "Flag --hostname has been deprecated, use --host\n";
  BackupOptions options;
  const bool stream = args.Has("stdin") || args.Has("stdin-from-command");
  if (!stream) {
    auto targets = CollectTargets(args);
    if (auto* e = std::get_if<InputError>(&targets)) return Report(*e);
    options.targets = std::get<std::vector<std::string>>(targets);
  }
  if (auto e = FillOptions(args, options)) return Report(*e);
  auto spec = ReadSelectionSpec(args);
  if (auto* e = std::get_if<InputError>(&spec)) return Report(*e);
  auto selection = BackupSelection::Make(std::get<SelectionSpec>(spec), options.targets);
  if (!selection.ok()) return Report({selection.error().message(), false});
  options.selection = *selection;
  options.on_warning = WarningPrinter(g.json);

  bool dry_run = args.Has("dry-run");
  auto repo = OpenRepository(args, g, dry_run);
  if (!repo.ok()) return Fatal(repo.error());
  uint64_t pol = (*repo)->config().chunker_polynomial;
  if (PolynomialDegree(pol) != 53 || !PolynomialIrreducible(pol)) {
    return Fatal("config: invalid chunker polynomial " + PolynomialToHex(pol));
  }
  auto lock = LockRepository(**repo, args, LockMode::kShared);
  if (!lock.ok()) return Fatal(lock.error());
  auto loaded = (*repo)->LoadIndex(IndexDetail::kDataIdsOnly);
  if (!loaded.ok()) return Fatal(loaded.error());
  if (args.Has("parent") && !stream && !options.force) {
    auto parent = FindSnapshot(**repo, args.Get("parent"), {});
    if (!parent.ok()) return Fatal(ParentError(args.Get("parent"), parent.error()));
    options.parent = parent->first;
  }
  auto result = RunEngine(**repo, args, g, options);
  if (result.ok() && !g.json && !g.quiet) {
    if (result->summary.parent) {
      std::printf("using parent snapshot %s\n", result->summary.parent->Short().c_str());
    } else if (!stream) {  // restic says nothing of a parent for --stdin
      std::printf("no parent snapshot found, will read all files\n");
    }
  }
  return Finish(result, options, **repo, g, dry_run);
}

std::vector<FlagSpec> BackupFlags() {
  std::vector<FlagSpec> flags = {
      {"dry-run", 'n', false, "do not upload or write any data, just show what would be done"},
      {"exclude", 'e', true, "exclude a pattern (can be specified multiple times)"},
      {"exclude-caches", 0, false, "exclude folders marked with a CACHEDIR.TAG file"},
      {"exclude-file", 0, true, "read exclude patterns from a file (can be repeated)"},
      {"exclude-if-present", 0, true, "filename[:header]: exclude the contents of folders holding filename"},
      {"exclude-larger-than", 0, true, "max size of the files to back up (suffixes k/K, m/M, g/G, t/T)"},
      {"files-from", 0, true, "read the files to back up from file (glob patterns, # comments)"},
      {"files-from-raw", 0, true, "read the files to back up from file (NUL-separated)"},
      {"files-from-verbatim", 0, true, "read the files to back up from file (one name a line)"},
      {"force", 'f', false, "read all files, even those unchanged since the parent snapshot"},
      {"host", 'H', true, "hostname to record in the snapshot"},
      {"hostname", 0, true, "deprecated: use --host"},
      {"iexclude", 0, true, "same as --exclude but ignores the casing of file names"},
      {"iexclude-file", 0, true, "same as --exclude-file but ignores the casing of file names"},
      {"ignore-ctime", 0, false, "ignore ctime changes when checking for modified files"},
      {"ignore-inode", 0, false, "ignore inode number changes when checking for modified files"},
      {"one-file-system", 'x', false, "exclude other file systems, don't cross file system boundaries"},
      {"parent", 0, true, "use this parent snapshot (default: latest with the same host and paths)"},
      {"read-concurrency", 0, true, "read n files concurrently (default: $RESTIC_READ_CONCURRENCY or 2)"},
      {"skip-if-unchanged", 0, false, "skip snapshot creation if identical to the parent snapshot"},
      {"stdin", 0, false, "read backup from stdin"},
      {"stdin-from-command", 0, false, "interpret arguments as command to execute and store its stdout"},
      {"stdin-filename", 0, true, "filename to use when reading from stdin (default \"stdin\")"},
      {"tag", 0, true, "add tags for the new snapshot (a,b or repeated)"},
      {"time", 0, true, "time of the backup (ex. '2012-11-01 22:08:41') (default: now)"},
      {"with-atime", 0, false, "store the atime of files and folders"}};
  for (auto& f : SidecarBackupFlags()) flags.push_back(f);
  return flags;
}

}  // namespace

Command BackupCommand() {
  return {"backup", "Create a new backup of files and/or directories", BackupFlags(), RunBackup,
          "[flags] FILE/DIR [FILE/DIR] ..."};
}

}  // namespace stash::cli
