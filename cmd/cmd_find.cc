// stash find: files and folders of snapshots whose path matches a pattern.
#include <ctime>
#include <iostream>
#include <optional>

#include "cmd/commands.h"
#include "base/string_util.h"
#include "engine/filter.h"
#include "base/go_json.h"
#include "base/go_time.h"

namespace stash::cli {
namespace {

struct FindOptions {
  std::vector<PathFilter> patterns;  // one per pattern: any may match
  bool ignore_case = false;
  bool long_format = false;
  std::optional<int64_t> oldest, newest;  // Unix seconds
};

// The forms restic's --oldest/--newest accept, in local time.
Result<int64_t> ParseLocalTime(const std::string& text) {
  for (const char* format : {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"}) {
    std::tm tm{};
    const char* end = ::strptime(text.c_str(), format, &tm);
    if (end && *end == '\0') {
      tm.tm_isdst = -1;
      return static_cast<int64_t>(std::mktime(&tm));
    }
  }
  return Invalid("unable to parse time: \"" + text + "\"");
}

std::string LongLine(const Node& n, const std::string& path) {
  char buf[64];
  std::snprintf(buf, sizeof buf, " %5u %5u %6llu ", n.uid, n.gid, (unsigned long long)n.size);
  std::string line = ModeString(n.mode) + buf +
                     FormatTableTime(Timestamp::Local(n.mtime.seconds, n.mtime.nanos)) + " " + path;
  if (n.type == NodeType::kSymlink) line += " -> " + n.linktarget;
  return line;
}

// restic's node JSON with "path" and "permissions" first and without name,
// inode, extended attributes, device, content and subtree.
std::string MatchJson(const Node& n, const std::string& path) {
  std::string o = "{\"path\":";
  AppendGoJsonString(o, path);
  o += ",\"permissions\":\"" + ModeString(n.mode) + "\",\"type\":\"" + NodeTypeName(n.type) + "\"";
  if (n.mode) o += ",\"mode\":" + std::to_string(n.mode);
  o += ",\"mtime\":\"" + FormatRfc3339Nano(n.mtime) + "\",\"atime\":\"" + FormatRfc3339Nano(n.atime) +
       "\",\"ctime\":\"" + FormatRfc3339Nano(n.ctime) + "\",\"uid\":" + std::to_string(n.uid) +
       ",\"gid\":" + std::to_string(n.gid);
  auto text = [&](const char* key, const std::string& v) {
    if (v.empty()) return;
    o += std::string(",\"") + key + "\":";
    AppendGoJsonString(o, v);
  };
  auto number = [&](const char* key, uint64_t v) {
    if (v) o += std::string(",\"") + key + "\":" + std::to_string(v);
  };
  text("user", n.user);
  text("group", n.group);
  number("device_id", n.device_id);
  number("size", n.size);
  number("links", n.links);
  text("linktarget", n.linktarget);
  text("error", n.error);
  return o + "}";
}

// Prints matches as restic does: a header per snapshot with hits (text) or
// one JSON array of {"matches":[...],"hits":N,"snapshot":ID} objects.
class Output {
 public:
  Output(bool json, bool long_format) : json_(json), long_(long_format) {}

  void StartSnapshot(const SnapshotEntry* entry) { current_ = entry; }

  void Match(const Node& n, const std::string& path) {
    if (printed_ != current_) {
      if (json_) {
        std::cout << (printed_ ? "],\"hits\":" + std::to_string(hits_) + ",\"snapshot\":\"" +
                                     printed_->first.Hex() + "\"}," : "[")
                  << "{\"matches\":[";
      } else {
        if (printed_) std::cout << "\n";
        const Timestamp& t = current_->second.time;
        std::cout << "Found matching entries in snapshot " << current_->first.Short() << " from "
                  << FormatTableTime(Timestamp::Local(t.seconds, t.nanos)) << "\n";
      }
      printed_ = current_;
      hits_ = 0;
    }
    if (json_) {
      std::cout << (hits_ ? "," : "") << MatchJson(n, path);
    } else {
      std::cout << (long_ ? LongLine(n, path) : path) << "\n";
    }
    ++hits_;
  }

  void Finish() {
    if (!json_) return;
    if (!printed_) {
      std::cout << "[]\n";
      return;
    }
    std::cout << "],\"hits\":" << hits_ << ",\"snapshot\":\"" << printed_->first.Hex() << "\"}]\n";
  }

 private:
  bool json_, long_;
  const SnapshotEntry* current_ = nullptr;
  const SnapshotEntry* printed_ = nullptr;
  uint64_t hits_ = 0;
};

bool TooOldOrNew(const Node& n, const FindOptions& o) {
  if (o.oldest && n.mtime.seconds < *o.oldest) return true;
  if (o.newest && (n.mtime.seconds > *o.newest || (n.mtime.seconds == *o.newest && n.mtime.nanos > 0))) {
    return true;
  }
  return false;
}

Status Walk(Repository& repo, const Id& tree_id, const std::string& prefix, const FindOptions& o,
            Output& out) {
  STASH_ASSIGN_OR_RETURN(Tree tree, repo.LoadTree(tree_id));
  for (const auto& n : tree.nodes) {
    std::string path = prefix + "/" + n.name;
    std::string subject = o.ignore_case ? AsciiLower(path) : path;
    bool match = false, descend = false;
    for (const auto& p : o.patterns) {
      match = match || p.Match(subject);
      descend = descend || match || p.ChildMayMatch(subject);
    }
    if (match && !TooOldOrNew(n, o)) out.Match(n, path);
    if (n.type == NodeType::kDir && n.subtree && descend) {
      STASH_RETURN_IF_ERROR(Walk(repo, *n.subtree, path, o, out));
    }
  }
  return Status::Ok();
}

Result<std::vector<SnapshotEntry>> Snapshots(Repository& repo, const Args& args) {
  std::vector<SnapshotEntry> chosen;
  auto ids = args.GetAll("snapshot");
  if (ids.empty()) {
    STASH_ASSIGN_OR_RETURN(auto all, repo.LoadAllSnapshots());
    auto filter = FilterFromArgs(args);
    for (auto& e : all) {
      if (MatchesFilter(e.second, filter)) chosen.push_back(std::move(e));
    }
    SortByTime(chosen);
    return chosen;
  }
  for (const auto& id : ids) {
    STASH_ASSIGN_OR_RETURN(auto entry, FindSnapshot(repo, id, FilterFromArgs(args)));
    chosen.push_back(std::move(entry));
  }
  return chosen;
}

Result<FindOptions> OptionsFromArgs(const Args& args) {
  FindOptions o;
  o.ignore_case = args.Has("ignore-case");
  o.long_format = args.Has("long");
  for (std::string p : args.positional()) {
    if (o.ignore_case) p = AsciiLower(p);
    STASH_ASSIGN_OR_RETURN(PathFilter f, PathFilter::Compile({p}));
    o.patterns.push_back(std::move(f));
  }
  if (args.Has("oldest")) {
    STASH_ASSIGN_OR_RETURN(o.oldest, ParseLocalTime(args.Get("oldest")));
  }
  if (args.Has("newest")) {
    STASH_ASSIGN_OR_RETURN(o.newest, ParseLocalTime(args.Get("newest")));
  }
  return o;
}

int RunFind(const Args& args, const Globals& g) {
  if (args.positional().empty()) return Fatal("wrong number of arguments");
  for (const char* unsupported : {"blob", "tree", "pack", "show-pack-id"}) {
    if (args.Has(unsupported)) return Fatal(std::string("--") + unsupported + " is not supported by stash yet");
  }
  auto options = OptionsFromArgs(args);
  if (!options.ok()) return Fatal(options.error());
  auto repo = OpenRepository(args, g);
  if (!repo.ok()) return Fatal(repo.error());
  auto lock = LockRepository(**repo, args, LockMode::kShared);
  if (!lock.ok()) return Fatal(lock.error());
  auto index = (*repo)->LoadIndex();
  if (!index.ok()) return Fatal(index.error());
  auto snapshots = Snapshots(**repo, args);
  if (!snapshots.ok()) return Fatal(snapshots.error());
  Output out(g.json, options->long_format);
  for (const auto& entry : *snapshots) {
    out.StartSnapshot(&entry);
    auto walked = Walk(**repo, entry.second.tree, "", *options, out);
    if (!walked.ok()) return Fatal(walked.error());
  }
  out.Finish();
  return kExitOk;
}

}  // namespace

Command FindCommand() {
  return {"find", "Find a file, a directory or restic IDs",
          WithFilterFlags({{"ignore-case", 'i', false, "ignore case for pattern"},
                           {"long", 'l', false, "use a long listing format showing size and mode"},
                           {"newest", 'N', true, "newest modification date/time"},
                           {"oldest", 'O', true, "oldest modification date/time"},
                           {"snapshot", 's', true, "snapshot id to search in (can be given multiple times)"},
                           {"blob", 0, false, "pattern is a blob-ID (not supported yet)"},
                           {"tree", 0, false, "pattern is a tree-ID (not supported yet)"},
                           {"pack", 0, false, "pattern is a pack-ID (not supported yet)"},
                           {"show-pack-id", 0, false, "display the pack-ID the blobs belong to (not supported yet)"}}),
          RunFind, "[flags] PATTERN..."};
}

}  // namespace stash::cli
