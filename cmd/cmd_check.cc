// stash check: test the repository for errors, as restic 0.14's check does.
//
// Progress and non-critical notes go to stdout, errors to stderr; exit 1
// with "Fatal: repository contains errors" when anything is wrong. Like
// restic, check takes an exclusive lock (unless --no-lock) and stops after
// the index phase if an index file cannot be read, since every later phase
// relies on the index.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>

#include "cmd/commands.h"
#include "engine/checker.h"

namespace stash::cli {
namespace {

// restic's checkFlags: the subset to read, or nullopt for no read phase.
Result<std::optional<ReadDataSubset>> SubsetFromFlags(const Args& args) {
  bool all = args.Has("read-data");
  std::string subset = args.Get("read-data-subset");
  if (all && !subset.empty()) {
    return Invalid("check flags --read-data and --read-data-subset cannot be used together");
  }
  if (all) return std::optional<ReadDataSubset>(ReadDataSubset{});
  if (subset.empty()) return std::optional<ReadDataSubset>();
  STASH_ASSIGN_OR_RETURN(ReadDataSubset parsed, ParseReadDataSubset(subset));
  return std::optional<ReadDataSubset>(parsed);
}

class Reporter {
 public:
  explicit Reporter(bool quiet) : quiet_(quiet) {}

  // restic's Verbosef: progress lines, silenced by --quiet.
  void Verbose(const std::string& line) const {
    if (!quiet_) std::cout << line << std::endl;
  }
  // restic's Printf: non-critical findings, always shown.
  void Note(const std::string& line) const { std::cout << line << std::endl; }
  void Error(const std::string& line) {
    std::cerr << line << "\n";
    errors_ = true;
  }
  void Errors(const std::vector<std::string>& lines, const std::string& prefix = "") {
    for (const auto& l : lines) Error(prefix + l);
  }
  bool errors() const { return errors_; }
  bool quiet() const { return quiet_; }

 private:
  bool quiet_;
  bool errors_ = false;
};

// "[0:03] 42.00%  21 / 50 packs", redrawn in place on a terminal.
class PackProgress {
 public:
  PackProgress(size_t total, bool quiet) : total_(total), quiet_(quiet), tty_(::isatty(1)) {}
  void Update(size_t done) const {
    if (!quiet_ && tty_) std::cout << "\r" << Line(done) << std::flush;
  }
  void Done() const {
    if (!quiet_) std::cout << (tty_ ? "\r" : "") << Line(total_) << "\n" << std::flush;
  }

 private:
  std::string Line(size_t done) const {
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::steady_clock::now() - start_).count();
    double pct = total_ ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 100.0;
    char buf[128];
    std::snprintf(buf, sizeof buf, "[%lld:%02lld] %.2f%%  %zu / %zu packs",
                  static_cast<long long>(secs / 60), static_cast<long long>(secs % 60), pct, done,
                  total_);
    return buf;
  }
  size_t total_;
  bool quiet_, tty_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// The line restic prints before reading, for each kind of subset.
std::string ReadHeading(const ReadDataSubset& s, const Checker& checker, size_t selected) {
  char buf[256];
  switch (s.kind) {
    case ReadDataSubset::Kind::kAll:
      return "read all data";
    case ReadDataSubset::Kind::kGroup:
      std::snprintf(buf, sizeof buf,
                    "read group #%u of %zu data packs (out of total %zu packs in %u groups)",
                    s.group, selected, checker.PackCount(), s.groups);
      return buf;
    case ReadDataSubset::Kind::kPercent:
      std::snprintf(buf, sizeof buf, "read %.1f%% of data packs", s.percent);
      return buf;
    case ReadDataSubset::Kind::kBytes:
      return "read " + std::to_string(std::min(s.bytes, checker.TotalPackSize())) +
             " bytes of data packs";
  }
  return "";
}

// Returns false (after a Fatal message) when the read cannot start.
bool ReadData(Checker& checker, const ReadDataSubset& subset, Reporter& report) {
  if (subset.kind == ReadDataSubset::Kind::kBytes && checker.TotalPackSize() == 0) {
    Fatal("Cannot read from a repository having size 0");
    return false;
  }
  auto packs = checker.SelectPacks(subset, std::random_device{}());
  report.Verbose(ReadHeading(subset, checker, packs.size()));
  PackProgress progress(packs.size(), report.quiet());
  auto found = checker.ReadPacks(packs, 3, [&](size_t done) { progress.Update(done); });
  progress.Done();
  report.Errors(found.errors);
  return true;
}

void ReportUnused(const Checker& checker, bool as_errors, Reporter& report) {
  auto unused = checker.UnusedBlobs();
  if (as_errors) {
    report.Errors(unused, "unused blob ");
  } else if (!unused.empty()) {
    report.Verbose(std::to_string(unused.size()) +
                   " blobs are not used by any snapshot; this is non-critical, `stash prune` "
                   "removes them");
  }
}

int RunCheck(const Args& args, const Globals& g) {
  if (args.Has("restic-name")) return RunResticCheck(args);
  if (!args.positional().empty()) {
    return Fatal("the check command expects no arguments, only options - please see "
                 "`stash help check` for usage and flags");
  }
  auto subset = SubsetFromFlags(args);
  if (!subset.ok()) return Fatal(subset.error());
  auto repo = OpenRepository(args, g);
  if (!repo.ok()) return Fatal(repo.error());
  Reporter report(g.quiet);
  if (!args.Has("no-lock")) report.Verbose("create exclusive lock for repository");
  auto lock = LockRepository(**repo, args, LockMode::kExclusive);
  if (!lock.ok()) return Fatal(lock.error());

  Checker checker(**repo);
  report.Verbose("load indexes");
  auto index = checker.LoadIndex();
  for (const auto& n : index.notes) report.Note(n);
  if (!index.errors.empty()) {
    report.Errors(index.errors, "error: ");
    return Fatal("LoadIndex returned errors");
  }

  report.Verbose("check all packs");
  auto packs = checker.CheckPacks();
  for (const auto& n : packs.notes) report.Verbose(n);
  report.Errors(packs.errors);

  report.Verbose("check snapshots, trees and blobs");
  auto structure = checker.CheckStructure();
  report.Errors(structure.errors, "error: ");
  // After a broken tree the walk is incomplete and "unused" means nothing.
  if (structure.errors.empty()) ReportUnused(checker, args.Has("check-unused"), report);

  if (subset->has_value() && !ReadData(checker, **subset, report)) return kExitError;
  if (report.errors()) return Fatal("repository contains errors");
  report.Verbose("no errors were found");
  return kExitOk;
}

std::vector<FlagSpec> CheckFlags() {
  std::vector<FlagSpec> flags = {
      {"read-data", 0, false, "read all data blobs"},
      {"read-data-subset", 0, true,
        "read a subset of data packs, specified as 'n/t' for specific part, or either 'x%' "
        "or 'x.y%' or a size in bytes with suffixes k/K, m/M, g/G, t/T for a random subset"},
      {"check-unused", 0, false, "find unused blobs (and count them as errors)"},
      {"with-cache", 0, false, "use the cache (accepted; there is none)"}};
  for (auto& f : ResticCheckFlags()) flags.push_back(f);
  return flags;
}

}  // namespace

Command CheckCommand() {
  return {"check", "Check the repository for errors", CheckFlags(), RunCheck, "[flags]"};
}

}  // namespace stash::cli
