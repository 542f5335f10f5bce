#include "agent/v1beta1_job.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/retention.h"
#include "agent/v1beta1_restore.h"
#include "agent/v1beta1_session.h"
#include "base/child_process.h"
#include "base/json_out.h"
#include "base/text_file.h"
#include "crypto/encoding.h"
#include "engine/backup_stdin.h"
#include "engine/dump.h"
#include "kube/events.h"
#include "kube/object.h"
#include "stashapi/go_duration.h"
#include "storage/lock.h"

namespace stash::agent {
namespace {

using Clock = std::chrono::system_clock;
using Steady = std::chrono::steady_clock;

std::string OutputFile(const std::string& dir) { return (dir.empty() ? std::string(".") : dir) + "/output.json"; }

std::optional<HostStats> StatsMember(const kube::Json& doc, const char* key) {
  if (!doc.HasMember(key) || !doc[key].IsObject()) return std::nullopt;
  std::string wrapped = "{\"status\":{\"stats\":[" + kube::ToJson(doc[key]) + "]}}";
  rapidjson::Document d;
  d.Parse(wrapped.c_str(), wrapped.size());
  auto stats = ParseHostStats(d);
  if (stats.empty()) return std::nullopt;
  return stats.front();
}

Status MakeDirs(const std::string& dir) {
  std::string path;
  for (size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || (dir[i] == '/' && i > 0)) {
      path = dir.substr(0, i);
      if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
        return IOError("mkdir " + path + ": " + std::strerror(errno));
      }
    }
  }
  return Status::Ok();
}

std::string Duration(Steady::duration d) {
  return FormatGoDuration(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
}

std::vector<std::string> ConnectionArgs(const DatabaseConnection& c) {
  std::vector<std::string> args = {"-h", c.host};
  if (!c.port.empty()) args.insert(args.end(), {"-p", c.port});
  args.insert(args.end(), {"-U", c.username});
  return args;
}

// The dump into the repository; its snapshot stats.
Result<SnapshotStats> DumpInto(const V1beta1Repository& repo, const DatabaseStepOptions& o,
                               const DatabaseConnection& c, const kube::LogFn& log) {
  STASH_ASSIGN_OR_RETURN(auto opened, OpenV1beta1Repository(repo, o.hostname, /*create=*/true));
  if (opened.created && log) log("created restic repository at " + opened.location);
  Repository& r = *opened.repo;
  STASH_ASSIGN_OR_RETURN(auto lock, AcquireLockRetrying(r, LockMode::kShared, kLockRetry));
  STASH_RETURN_IF_ERROR(r.LoadIndex());
  std::vector<std::string> argv = {o.dump_command};
  for (auto& a : ConnectionArgs(c)) argv.push_back(a);
  for (auto& a : o.extra_args) argv.push_back(a);
  STASH_ASSIGN_OR_RETURN(ChildProcess child, SpawnChild(argv, ChildPipe::kStdout, {{"PGPASSWORD", c.password}}));
  ChunkerTables tables(r.config().chunker_polynomial);
  BackupOptions options;
  options.hostname = o.hostname;
  auto result = BackupStream(r, tables, options, child.fd, kDumpFileName, [&] { return WaitChild(child); });
  Status waited = WaitChild(child);
  if (!result.ok()) return result.error().Wrap("backup of " + o.dump_command + "'s output to " + opened.location);
  if (!waited.ok()) return waited.error();
  if (!result->warnings.empty()) return IOError(o.dump_command + " wrote nothing");
  if (log) log("backed up the output of " + o.dump_command + " as host " + o.hostname + ": snapshot " +
               result->summary.snapshot_id.Short());
  return SnapshotStatsOf(result->summary, std::string("/") + kDumpFileName);
}

Status RestoreFrom(const V1beta1Repository& repo, const DatabaseStepOptions& o, const DatabaseConnection& c,
                   const kube::LogFn& log) {
  STASH_ASSIGN_OR_RETURN(auto opened, OpenV1beta1Repository(repo, o.hostname, /*create=*/false));
  Repository& r = *opened.repo;
  STASH_ASSIGN_OR_RETURN(auto lock, AcquireLockRetrying(r, LockMode::kShared, kLockRetry));
  STASH_ASSIGN_OR_RETURN(auto snapshots, r.LoadAllSnapshots());
  RestoreRule rule;
  rule.source_host = o.source_hostname;
  rule.snapshots = o.snapshots;
  if (rule.snapshots.empty()) rule.paths = {std::string("/") + kDumpFileName};
  auto plan = PlanRestore(snapshots, rule, o.hostname, o.repository);
  if (!plan.ok()) return plan.error().Wrap("repository " + opened.location);
  STASH_RETURN_IF_ERROR(r.LoadIndex());
  const SnapshotEntry& entry = plan->front().entry;
  STASH_ASSIGN_OR_RETURN(Tree tree, r.LoadTree(entry.second.tree));
  const Node* file = nullptr;
  for (const auto& n : tree.nodes) {
    if (n.name == kDumpFileName && n.type == NodeType::kFile) file = &n;
  }
  if (!file) return NotFound("snapshot " + entry.first.Short() + " holds no /" + kDumpFileName);
  std::vector<std::string> argv = {o.restore_command};
  for (auto& a : ConnectionArgs(c)) argv.push_back(a);
  argv.insert(argv.end(), {"-q", "-o", "/dev/null"});  // errors still reach stderr
  for (auto& a : o.extra_args) argv.push_back(a);
  if (o.extra_args.empty()) argv.insert(argv.end(), {"-d", "postgres"});
  if (log) log("restoring snapshot " + entry.first.Short() + " (host " + entry.second.hostname + ") into " +
               o.restore_command);
  STASH_ASSIGN_OR_RETURN(ChildProcess child, SpawnChild(argv, ChildPipe::kStdin, {{"PGPASSWORD", c.password}}));
  Status dumped = DumpFile(r, *file, [&](ByteView data) -> Status {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(child.fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return IOError(o.restore_command + " stopped reading: " + std::strerror(errno));
      done += static_cast<size_t>(n);
    }
    return Status::Ok();
  });
  Status waited = WaitChild(child);
  if (!waited.ok()) return waited;
  return dumped;
}

}  // namespace

std::string StepOutputJson(const StepOutput& output) {
  JsonOut j;
  j.Open();
  if (output.backup) j.Key("hostBackupStats").Raw(HostStatsJson(*output.backup));
  if (output.restore) j.Key("hostRestoreStats").Raw(HostStatsJson(*output.restore));
  if (output.snapshot_count >= 0) {
    j.Key("repositoryStats").Open().Key("snapshotCount").Uint(static_cast<uint64_t>(output.snapshot_count)).Close();
  }
  j.Close();
  return j.Take();
}

Result<StepOutput> ParseStepOutput(std::string_view json, const std::string& file) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return Invalid(file + " is not a JSON object");
  StepOutput out;
  out.backup = StatsMember(doc, "hostBackupStats");
  out.restore = StatsMember(doc, "hostRestoreStats");
  if (!out.backup && !out.restore) return Invalid(file + " has neither hostBackupStats nor hostRestoreStats");
  if (const kube::Json* count = kube::At(doc, "/repositoryStats/snapshotCount"); count && count->IsInt64()) {
    out.snapshot_count = count->GetInt64();
  }
  return out;
}

Status WriteStepOutput(const std::string& dir, const StepOutput& output) {
  STASH_RETURN_IF_ERROR(MakeDirs(dir));
  return WriteTextFile(OutputFile(dir), StepOutputJson(output) + "\n", 0644);
}

Result<StepOutput> ReadStepOutput(const std::string& dir) {
  const std::string file = OutputFile(dir);
  auto text = ReadTextFile(file);
  if (!text.ok()) return NotFound("the previous step wrote no " + file + " (" + text.error().message() + ")");
  return ParseStepOutput(*text, file);
}

Status RunUpdateStatus(kube::Client& client, const UpdateStatusOptions& o, const kube::LogFn& log) {
  if (o.backup_session.empty() == o.restore_session.empty()) {
    return Invalid("update-status needs exactly one of --backup-session and --restore-session");
  }
  const bool backup = !o.backup_session.empty();
  auto output = ReadStepOutput(o.output_dir);
  HostStats stats;
  if (!output.ok()) {
    stats.hostname = "host-0";
    stats.phase = "Failed";
    stats.error = output.error().message();
  } else if (backup ? !output->backup : !output->restore) {
    stats.hostname = "host-0";
    stats.phase = "Failed";
    stats.error = OutputFile(o.output_dir) + std::string(" holds no ") +
                  (backup ? "hostBackupStats" : "hostRestoreStats");
  } else {
    stats = backup ? *output->backup : *output->restore;
  }
  const kube::Resource& kind = backup ? kBackupSessions : kRestoreSessions;
  const std::string& name = backup ? o.backup_session : o.restore_session;
  STASH_RETURN_IF_ERROR(AppendHostStats(client, kind, o.ns, name, stats));
  if (log) log(kind.kind + " " + o.ns + "/" + name + ": host " + stats.hostname + " " + stats.phase +
               (stats.error.empty() ? "" : ": " + stats.error));
  kube::EventRecorder events(&client, backup ? "stash-backup" : "stash-restore", "", log);
  kube::ObjectReference ref;
  ref.api_version = kind.ApiVersion();
  ref.kind = kind.kind;
  ref.ns = o.ns;
  ref.name = name;
  if (auto session = client.Get(kind, o.ns, name); session.ok()) ref = kube::ObjectReference::Of(**session);
  const std::string verb = backup ? "Backup" : "Restore";
  if (stats.phase == "Succeeded") {
    events.Normal(ref, "Host" + verb + "Succeeded", verb + " of host " + stats.hostname + " succeeded");
  } else {
    events.Warning(ref, "Host" + verb + "Failed", verb + " of host " + stats.hostname + " failed: " + stats.error);
  }
  if (backup && stats.phase == "Succeeded" && !o.repository.empty()) {
    auto took = ParseGoDuration(stats.duration);
    Status recorded = RecordV1beta1BackupStatus(client, o.ns, o.repository, Clock::now(),
                                                std::chrono::nanoseconds(took.ok() ? *took : 0),
                                                output.ok() ? output->snapshot_count : -1);
    if (!recorded.ok() && log) log("cannot record the backup in the Repository: " + recorded.error().message());
  }
  return Status::Ok();
}

Result<std::pair<std::string, std::string>> HostPortOfUrl(const std::string& url) {
  std::string rest = url;
  if (auto scheme = rest.find("://"); scheme != std::string::npos) rest = rest.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (rest.empty() || rest.find('@') != std::string::npos) return Invalid("clientConfig.url \"" + url + "\" names no host");
  if (rest[0] == '[') {  // [v6]:port
    size_t close = rest.find(']');
    if (close == std::string::npos) return Invalid("clientConfig.url \"" + url + "\": unclosed [");
    std::string host = rest.substr(1, close - 1);
    std::string port = close + 1 < rest.size() && rest[close + 1] == ':' ? rest.substr(close + 2) : "";
    return std::make_pair(host, port);
  }
  size_t colon = rest.rfind(':');
  if (colon == std::string::npos) return std::make_pair(rest, std::string());
  return std::make_pair(rest.substr(0, colon), rest.substr(colon + 1));
}

Result<DatabaseConnection> ReadConnection(kube::Client& client, const std::string& ns, const std::string& appbinding) {
  const std::string what = "AppBinding " + ns + "/" + appbinding;
  if (appbinding.empty()) return Invalid("no AppBinding named (--appbinding, the Task's ${TARGET_NAME})");
  auto object = client.Get(kAppBindings, ns, appbinding);
  if (!object.ok()) {
    if (object.error().kind() == ErrorKind::kNotFound) return NotFound(what + " not found");
    return object.error().Wrap(what);
  }
  DatabaseConnection c;
  const std::string url = kube::StringAt(**object, "/spec/clientConfig/url");
  if (!url.empty()) {
    auto hp = HostPortOfUrl(url);
    if (!hp.ok()) return hp.error().Wrap(what);
    c.host = hp->first, c.port = hp->second;
  } else if (const kube::Json* service = kube::At(**object, "/spec/clientConfig/service");
             service && service->IsObject() && !kube::StringOf(*service, "name").empty()) {
    c.host = kube::StringOf(*service, "name") + "." + ns + ".svc";
    if (service->HasMember("port") && (*service)["port"].IsInt()) c.port = std::to_string((*service)["port"].GetInt());
  } else {
    return Invalid(what + " has neither spec.clientConfig.url nor spec.clientConfig.service");
  }
  const std::string secret_name = kube::StringAt(**object, "/spec/secret/name");
  if (secret_name.empty()) return Invalid(what + " names no spec.secret");
  const std::string secret_what = "Secret " + ns + "/" + secret_name + " of " + what;
  auto secret = client.Get(kube::resources::kSecrets, ns, secret_name);
  if (!secret.ok()) {
    if (secret.error().kind() == ErrorKind::kNotFound) return NotFound(secret_what + " not found");
    return secret.error().Wrap(secret_what);
  }
  auto data = kube::StringMap(kube::At(**secret, "/data"));
  for (const char* key : {"username", "password"}) {
    auto it = data.find(key);
    if (it == data.end()) return Invalid(secret_what + " has no key \"" + key + "\"");
    auto bytes = Base64Decode(it->second);
    if (!bytes) return Invalid(secret_what + ": data." + key + " is not base64");
    (std::string(key) == "username" ? c.username : c.password) = std::string(AsString(*bytes));
  }
  return c;
}

// One host's stats of a step: how long `step` took and how it ended.
// `step` fills `stats` (snapshots) as it goes; a failure keeps none of it.
template <typename Step>
HostStats TimedStep(const std::string& hostname, Step&& step) {
  auto began = Steady::now();
  HostStats stats;
  stats.hostname = hostname;
  Status done = step(stats);
  stats.duration = Duration(Steady::now() - began);
  stats.phase = done.ok() ? "Succeeded" : "Failed";
  if (!done.ok()) {
    stats.error = done.error().message();
    stats.snapshots.clear();
  }
  return stats;
}

StepOutput BackupPostgres(kube::Client& client, const DatabaseStepOptions& o, const kube::LogFn& log) {
  StepOutput out;
  out.backup = TimedStep(o.hostname, [&](HostStats& stats) -> Status {
    STASH_ASSIGN_OR_RETURN(DatabaseConnection c, ReadConnection(client, o.ns, o.appbinding));
    STASH_ASSIGN_OR_RETURN(V1beta1Repository repo, ReadV1beta1Repository(client, o.ns, o.repository));
    STASH_ASSIGN_OR_RETURN(SnapshotStats snapshot, DumpInto(repo, o, c, log));
    stats.snapshots.push_back(snapshot);
    if (HasKeepRule(o.retention)) {
      STASH_ASSIGN_OR_RETURN(auto opened, OpenV1beta1Repository(repo, o.hostname, /*create=*/false));
      auto kept = ApplyRetention(*opened.repo, o.retention, o.hostname, std::string("/") + kDumpFileName, kLockRetry);
      if (!kept.ok()) return kept.error().Wrap("retention policy");
      if (kept->removed > 0 && log) log("retention: forgot " + std::to_string(kept->removed) + " snapshot(s)");
    }
    STASH_ASSIGN_OR_RETURN(auto opened, OpenV1beta1Repository(repo, o.hostname, /*create=*/false));
    STASH_ASSIGN_OR_RETURN(auto all, opened.repo->LoadAllSnapshots());
    out.snapshot_count = static_cast<int64_t>(all.size());
    return Status::Ok();
  });
  return out;
}

StepOutput RestorePostgres(kube::Client& client, const DatabaseStepOptions& o, const kube::LogFn& log) {
  StepOutput out;
  out.restore = TimedStep(o.hostname, [&](HostStats&) -> Status {
    STASH_ASSIGN_OR_RETURN(DatabaseConnection c, ReadConnection(client, o.ns, o.appbinding));
    STASH_ASSIGN_OR_RETURN(V1beta1Repository repo, ReadV1beta1Repository(client, o.ns, o.repository));
    return RestoreFrom(repo, o, c, log);
  });
  return out;
}

}  // namespace stash::agent
