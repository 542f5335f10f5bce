// stash forget: remove snapshots by a keep policy or by id, as restic 0.14
// does (cmd/restic/cmd_forget.go): same flags, same tables, same --json.
//
// Where restic 0.14 only warns and exits 0 we refuse instead, since a
// forget that did less than asked should not look like success: an
// unknown snapshot id ("Ignoring ...") and a call with neither a policy
// nor ids ("no policy was specified").
#include <algorithm>
#include <chrono>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>

#include "cmd/commands.h"
#include "base/string_util.h"
#include "cmd/snapshot_table.h"
#include "engine/forget.h"
#include "base/go_json.h"
#include "base/go_time.h"

namespace stash::cli {
namespace {

struct ForgetOptions {
  ExpirePolicy policy;
  SnapshotFilter filter;
  GroupBy group_by;
  bool compact = false, dry_run = false, prune = false;
};

// pflag's message for a value it cannot parse.
Error BadFlagValue(const std::string& name, char short_name, const std::string& value,
                   const std::string& why) {
  std::string flag = short_name ? std::string("-") + short_name + ", --" + name : "--" + name;
  return Invalid("invalid argument \"" + value + "\" for \"" + flag + "\" flag: " + why);
}

// An int flag as pflag reads it (strconv.ParseInt with base prefixes).
Status ReadCount(const Args& args, const std::string& name, char short_name, int& out) {
  if (!args.Has(name)) return Status::Ok();
  const std::string value = args.Get(name);
  const char* why = "invalid syntax";
  if (!value.empty() && !std::isspace(static_cast<unsigned char>(value[0]))) {
    char* end = nullptr;
    errno = 0;
    long long n = std::strtoll(value.c_str(), &end, 0);
    if (*end == '\0' && errno == 0) {
      // Go's int is 64 bits; no repository has more snapshots than INT_MAX.
      out = static_cast<int>(std::clamp<long long>(n, INT32_MIN, INT32_MAX));
      return Status::Ok();
    }
    if (*end == '\0') why = "value out of range";
  }
  return BadFlagValue(name, short_name, value,
                      "strconv.ParseInt: parsing \"" + value + "\": " + why);
}

Status ReadDuration(const Args& args, const std::string& name, KeepDuration& out) {
  if (!args.Has(name)) return Status::Ok();
  auto d = ParseKeepDuration(args.Get(name));
  if (!d.ok()) return BadFlagValue(name, 0, args.Get(name), d.error().message());
  out = *d;
  return Status::Ok();
}

// The --keep-N and --keep-within-X flags and the policy fields they set.
const struct {
  const char* name;
  char short_name;
  const char* period;
  int ExpirePolicy::*field;
} kCountFlags[] = {{"keep-last", 'l', "", &ExpirePolicy::last},
                   {"keep-hourly", 'H', "hourly ", &ExpirePolicy::hourly},
                   {"keep-daily", 'd', "daily ", &ExpirePolicy::daily},
                   {"keep-weekly", 'w', "weekly ", &ExpirePolicy::weekly},
                   {"keep-monthly", 'm', "monthly ", &ExpirePolicy::monthly},
                   {"keep-yearly", 'y', "yearly ", &ExpirePolicy::yearly}};
const struct {
  const char* name;
  const char* period;
  KeepDuration ExpirePolicy::*field;
} kDurationFlags[] = {{"keep-within", "", &ExpirePolicy::within},
                      {"keep-within-hourly", "hourly ", &ExpirePolicy::within_hourly},
                      {"keep-within-daily", "daily ", &ExpirePolicy::within_daily},
                      {"keep-within-weekly", "weekly ", &ExpirePolicy::within_weekly},
                      {"keep-within-monthly", "monthly ", &ExpirePolicy::within_monthly},
                      {"keep-within-yearly", "yearly ", &ExpirePolicy::within_yearly}};

Result<ExpirePolicy> PolicyFromArgs(const Args& args) {
  ExpirePolicy p;
  for (const auto& f : kCountFlags) {
    STASH_RETURN_IF_ERROR(ReadCount(args, f.name, f.short_name, p.*f.field));
  }
  for (const auto& f : kDurationFlags) STASH_RETURN_IF_ERROR(ReadDuration(args, f.name, p.*f.field));
  for (const auto& t : args.GetAll("keep-tag")) p.tags.push_back(ParseTagList(t));
  return p;
}

Result<ForgetOptions> OptionsFromArgs(const Args& args) {
  ForgetOptions o;
  STASH_ASSIGN_OR_RETURN(o.policy, PolicyFromArgs(args));
  o.filter = FilterFromArgs(args);
  if (args.Has("hostname")) {
    std::cerr << "Flag --hostname has been deprecated, use --host\n";
    for (const auto& h : args.GetAll("hostname")) o.filter.hosts.push_back(h);
  }
  // Like restic, --group-by is only looked at when there is a policy to apply.
  if (args.positional().empty()) {
    STASH_ASSIGN_OR_RETURN(o.group_by, ParseGroupBy(args.Get("group-by", "host,paths")));
  }
  o.compact = args.Has("compact");
  o.dry_run = args.Has("dry-run");
  o.prune = args.Has("prune");
  return o;
}

// ---- JSON output: restic's []ForgetGroup ----

std::string JsonStrings(const std::optional<std::vector<std::string>>& list) {
  if (!list) return "null";
  std::string out = "[";
  for (size_t i = 0; i < list->size(); ++i) {
    if (i) out += ",";
    AppendGoJsonString(out, (*list)[i]);
  }
  return out + "]";
}

std::string JsonSnapshots(const std::vector<SnapshotEntry>& list) {
  if (list.empty()) return "null";
  std::string out = "[";
  for (const auto& [id, s] : list) {
    if (out.size() > 1) out += ",";
    out += EncodeSnapshotListEntry(s, id);
  }
  return out + "]";
}

std::string JsonCounters(const KeepCounters& c) {
  std::string out;
  auto add = [&](const char* name, int n) {
    if (n == 0) return;
    if (!out.empty()) out += ",";
    out.append("\"").append(name).append("\":").append(std::to_string(n));
  };
  add("last", c.last), add("hourly", c.hourly), add("daily", c.daily);
  add("weekly", c.weekly), add("monthly", c.monthly), add("yearly", c.yearly);
  return std::string("{").append(out).append("}");
}

std::string JsonGroup(const SnapshotGroup& g, const PolicyResult& r) {
  std::string out = "{\"tags\":" + JsonStrings(g.tags) + ",\"host\":";
  AppendGoJsonString(out, g.hostname);
  out += ",\"paths\":" + JsonStrings(g.paths) + ",\"keep\":" + JsonSnapshots(r.keep) +
         ",\"remove\":" + JsonSnapshots(r.remove) + ",\"reasons\":";
  if (r.reasons.empty()) return out + "null}";
  for (size_t i = 0; i < r.reasons.size(); ++i) {
    const KeepReason& k = r.reasons[i];
    out += std::string(i ? "," : "[") + "{\"snapshot\":" + EncodeSnapshot(k.snapshot.second) +
           ",\"matches\":" + JsonStrings(k.matches) + ",\"counters\":" + JsonCounters(k.counters) +
           "}";
  }
  return out + "]}";
}

// ---- The command ----

// Snapshots named on the command line; any one that cannot be found stops
// the command before anything is removed.
Result<std::set<Id>> NamedSnapshots(Repository& repo, const Args& args, const ForgetOptions& o) {
  const auto& specs = args.positional();
  if (!o.filter.Empty() && std::find(specs.begin(), specs.end(), "latest") == specs.end()) {
    std::cerr << "Ignoring filters as there are explicit snapshot ids given\n";
  }
  std::set<Id> out;
  for (const auto& spec : specs) {
    STASH_ASSIGN_OR_RETURN(auto entry, FindSnapshot(repo, spec, o.filter));
    out.insert(entry.first);
  }
  return out;
}

// Every snapshot the filter selects, ordered by id: ties in time then keep
// a fixed order (restic's is the order its parallel loader happens to see).
Result<std::vector<SnapshotEntry>> FilteredSnapshots(Repository& repo, const ForgetOptions& o) {
  STASH_ASSIGN_OR_RETURN(auto all, repo.LoadAllSnapshots());
  std::vector<SnapshotEntry> out;
  for (auto& e : all) {
    if (MatchesFilter(e.second, o.filter)) out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

// Applies the policy group by group, printing as restic does; returns the
// ids to remove.
Result<std::set<Id>> ApplyToGroups(std::vector<SnapshotEntry> list, const ForgetOptions& o,
                                   const Args& args, const Globals& g) {
  const bool text = !g.json && !g.quiet;
  if (text) std::printf("Applying Policy: %s\n", DescribePolicy(o.policy).c_str());
  std::set<Id> remove;
  std::vector<std::string> json_groups;
  const Timestamp now = Timestamp::Now();
  for (const auto& group : GroupSnapshots(std::move(list), o.group_by)) {
    if (text && args.Has("verbose")) PrintSnapshotGroupHeader(group);
    PolicyResult r = ApplyPolicy(group.snapshots, o.policy, now);
    if (text && !r.keep.empty()) {
      std::printf("keep %zu snapshots:\n", r.keep.size());
      PrintSnapshotTable(r.keep, &r.reasons, o.compact);
      std::printf("\n");
    }
    if (text && !r.remove.empty()) {
      std::printf("remove %zu snapshots:\n", r.remove.size());
      PrintSnapshotTable(r.remove, nullptr, o.compact);
      std::printf("\n");
    }
    json_groups.push_back(JsonGroup(group, r));
    for (const auto& e : r.remove) remove.insert(e.first);
  }
  if (g.json && !json_groups.empty()) std::printf("[%s]\n", JoinStrings(json_groups, ",").c_str());
  return remove;
}

Status RemoveSnapshots(Repository& repo, const std::set<Id>& ids, const Globals& g) {
  auto start = std::chrono::steady_clock::now();
  std::vector<std::string> names;
  for (const auto& id : ids) names.push_back(id.Hex());
  STASH_RETURN_IF_ERROR(RemoveFiles(repo.backend(), FileType::kSnapshot, names, /*missing_ok=*/false));
  if (!g.json && !g.quiet) {
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count();
    // restic's progress counter as it ends on a non-terminal: the last
    // status line, then the newline of the final update.
    std::printf("[%lld:%02lld] 100.00%%  %zu / %zu files deleted\n\n", (long long)secs / 60,
                (long long)secs % 60, ids.size(), ids.size());
  }
  return Status::Ok();
}

// The snapshots to remove: those named, or those the policy does not keep.
Result<std::set<Id>> Choose(Repository& repo, const Args& args, const ForgetOptions& o,
                            const Globals& g) {
  if (!args.positional().empty()) return NamedSnapshots(repo, args, o);
  STASH_ASSIGN_OR_RETURN(auto list, FilteredSnapshots(repo, o));
  return ApplyToGroups(std::move(list), o, args, g);
}

int RunForget(const Args& args, const Globals& g) {
  auto options = OptionsFromArgs(args);
  if (!options.ok()) return Fatal(options.error());
  const ForgetOptions& o = *options;
  auto prune_options = PruneOptionsFromArgs(args);
  if (!prune_options.ok()) return Fatal(prune_options.error());
  if (args.positional().empty() && o.policy.Empty()) {
    return Fatal("no policy was specified, no snapshots will be removed");
  }
  if (args.Has("no-lock") && !o.dry_run) {
    return Fatal("--no-lock is only applicable in combination with --dry-run for forget command");
  }
  auto repo = OpenRepository(args, g);
  if (!repo.ok()) return Fatal(repo.error());
  auto lock = LockRepository(**repo, args, LockMode::kExclusive);
  if (!lock.ok()) return Fatal(lock.error());
  auto remove = Choose(**repo, args, o, g);
  if (!remove.ok()) return Fatal(remove.error());
  if (remove->empty()) return kExitOk;
  if (!o.dry_run) {
    Status s = RemoveSnapshots(**repo, *remove, g);
    if (!s.ok()) return Fatal(s.error());
  } else if (!g.json) {
    // Go's fmt of an IDSet: short ids sorted by id, in braces.
    std::vector<std::string> shorts;
    for (const auto& id : *remove) shorts.push_back(id.Short());
    std::printf("Would have removed the following snapshots:\n{%s}\n\n", JoinStrings(shorts, " ").c_str());
  }
  if (!o.prune) return kExitOk;
  if (!g.json && !g.quiet) std::printf("%zu snapshots have been removed, running prune\n", remove->size());
  std::fflush(stdout);
  prune_options->dry_run = o.dry_run;
  return RunPruneOn(**repo, *prune_options, g);
}

std::vector<FlagSpec> ForgetFlags() {
  std::vector<FlagSpec> flags;
  for (const auto& f : kCountFlags) {
    flags.push_back({f.name, f.short_name, true, std::string("keep the last n ") + f.period + "snapshots"});
  }
  for (const auto& f : kDurationFlags) {
    flags.push_back({f.name, 0, true, std::string("keep ") + f.period + "snapshots newer than duration (eg. 1y5m7d2h)"});
  }
  std::vector<FlagSpec> rest = {
      {"keep-tag", 0, true, "keep snapshots with this taglist (can be specified multiple times)"},
      {"host", 0, true, "only consider snapshots with the given host (can be specified multiple times)"},
      {"hostname", 0, true, "deprecated: use --host"},
      {"tag", 0, true, "only consider snapshots which include this taglist (a,b = both)"},
      {"path", 0, true, "only consider snapshots which include this (absolute) path"},
      {"compact", 'c', false, "use compact output format"},
      {"group-by", 'g', true, "group snapshots by host, paths and/or tags (default host,paths; '' for none)"},
      {"dry-run", 'n', false, "do not delete anything, just print what would be done"},
      {"prune", 0, false, "automatically run the 'prune' command if snapshots have been removed"}};
  flags.insert(flags.end(), rest.begin(), rest.end());
  for (auto& f : PruneFlags()) {
    if (f.name != "dry-run") flags.push_back(f);
  }
  return flags;
}

}  // namespace

Command ForgetCommand() {
  return {"forget", "Remove snapshots from the repository", ForgetFlags(), RunForget, "[flags] [snapshot ID] [...]"};
}

}  // namespace stash::cli
