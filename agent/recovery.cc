#include "agent/recovery.h"

#include <unistd.h>

#include "stashapi/go_duration.h"
#include "agent/recovery_snapshot.h"
#include "agent/storage_access.h"
#include "base/json_out.h"
#include "engine/restorer.h"
#include "stashapi/recovery_spec.h"
#include "stashapi/stash_repository.h"
#include "storage/backends/backend_factory.h"
#include "storage/lock.h"

namespace stash::agent {
namespace {

using Clock = std::chrono::steady_clock;

const kube::Resource kRecoveries{"stash.appscode.com", "v1alpha1", "recoveries", "Recovery", true};
const kube::Resource kRepositories{"stash.appscode.com", "v1alpha1", "repositories", "Repository", true};

// What the cluster answered, as RetryCanHelp reads it: a missing object or
// a bad one stays wrong; anything else (a refusal, a server or network
// failure) may pass.
Error FromCluster(const Error& e) {
  if (e.kind() == ErrorKind::kNotFound || e.kind() == ErrorKind::kInvalid) return e;
  return IOError(e.message());
}

Result<kube::ObjectPtr> Read(kube::Client& client, const kube::Resource& r, const std::string& ns,
                             const std::string& name) {
  const std::string what = r.kind + " " + ns + "/" + name;
  auto object = client.Get(r, ns, name);
  if (object.ok()) return object;
  if (object.error().kind() == ErrorKind::kNotFound) return NotFound(what + " not found");
  return FromCluster(object.error().Wrap(what));
}

// The Job mounts a local backend's volume, with the Repository's subPath,
// at its mountPath: the repository is that folder.
Result<std::string> LocationOf(const StashRepository& repo, const std::map<std::string, std::string>& secret) {
  if (repo.backend.type != "local") return RepositoryLocation(repo.backend, secret);
  const std::string& mount = repo.backend.mount_path;
  if (mount.empty() || mount[0] != '/') {
    return Invalid("Repository " + repo.ns + "/" + repo.name + ": local backend mountPath \"" + mount +
                   "\" is not an absolute path");
  }
  return mount;
}

Result<std::unique_ptr<Repository>> OpenRepository(const StashRepository& repo,
                                                   const std::map<std::string, std::string>& secret) {
  STASH_ASSIGN_OR_RETURN(std::string location, LocationOf(repo, secret));
  auto backend = OpenBackend(location, SettingsFromSecret(repo.backend, secret));
  if (!backend.ok()) return backend.error().Wrap("repository " + location);
  auto opened = Repository::Open(std::move(*backend), secret.at("RESTIC_PASSWORD"));
  if (opened.ok() || opened.error().message().find(location) != std::string::npos) return opened;
  return opened.error().Wrap("repository " + location);
}

// Finds the folder of `path` in the snapshot's tree (SubtreeCandidates).
Result<std::string> FolderOf(Repository& repo, const Snapshot& snapshot, const std::string& path) {
  for (const auto& candidate : SubtreeCandidates(path)) {
    auto found = FindSubtree(repo, snapshot.tree, candidate);
    if (found.ok()) return candidate;
    if (found.error().kind() != ErrorKind::kNotFound) return found.error();
  }
  return NotFound("the snapshot's tree has no folder " + path);
}

std::string Dirname(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

// A file name as an --include pattern matching only itself.
std::string GlobEscape(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// The folder's parent is restored into the path's parent with only the
// folder included, so the folder itself gets its mode, owner and times
// back, as 0.8.3's `restic restore --target <parent>` gave them.
Result<RestoreOptions> OptionsFor(Repository& repo, const Snapshot& snapshot, const std::string& path) {
  STASH_ASSIGN_OR_RETURN(std::string folder, FolderOf(repo, snapshot, path));
  RestoreOptions options;
  options.restore_owner = ::geteuid() == 0;
  options.target = Dirname(path);
  if (path == "/") return options;
  options.subfolder = Dirname(folder);
  const std::string name = path.substr(path.rfind('/') + 1);
  STASH_ASSIGN_OR_RETURN(options.include, PathFilter::Compile({"/" + GlobEscape(name)}));
  return options;
}

Status RestoreFrom(Repository& repo, const SnapshotEntry& entry, const std::string& path, const kube::LogFn& log) {
  STASH_ASSIGN_OR_RETURN(RestoreOptions options, OptionsFor(repo, entry.second, path));
  log("restoring " + path + " from snapshot " + entry.first.Short() + " (host " + entry.second.hostname + ")");
  STASH_ASSIGN_OR_RETURN(RestoreResult result, Restore(repo, entry.second, options));
  if (!result.warnings.empty()) {
    const RestoreWarning& first = result.warnings.front();
    return Corrupt(std::to_string(result.warnings.size()) + " files or folders could not be restored (first: " +
                   first.path + ": " + first.message + ")");
  }
  log("restored " + path + ": " + std::to_string(result.summary.files) + " files, " +
      std::to_string(result.summary.bytes) + " bytes");
  return Status::Ok();
}

PathOutcome RecoverPath(Repository& repo, const std::vector<SnapshotEntry>& snapshots, const std::string& short_id,
                        const std::string& host, const std::string& path, const kube::LogFn& log) {
  PathOutcome out;
  out.path = path;
  auto start = Clock::now();
  auto entry = ChooseSnapshot(snapshots, short_id, host, path);
  out.status = entry.ok() ? RestoreFrom(repo, *entry, path, log) : Status(entry.error());
  if (!out.status.ok()) out.status = out.status.error().Wrap("path " + path);
  out.took = Clock::now() - start;
  return out;
}

struct Source {
  RecoverySpec spec;
  StashRepository repo;
  std::map<std::string, std::string> secret;
};

Result<Source> ReadSource(kube::Client& client, const std::string& ns, const std::string& name) {
  Source s;
  STASH_ASSIGN_OR_RETURN(auto recovery, Read(client, kRecoveries, ns, name));
  STASH_ASSIGN_OR_RETURN(s.spec, ParseRecovery(*recovery));
  STASH_ASSIGN_OR_RETURN(auto repository, Read(client, kRepositories, s.spec.repository_ns, s.spec.repository_name));
  STASH_ASSIGN_OR_RETURN(s.repo, ParseRepository(*repository));
  auto secret = ReadStorageSecret(client, s.repo.ns, s.repo.storage_secret_name);
  if (!secret.ok()) return FromCluster(secret.error());
  s.secret = std::move(*secret);
  return s;
}

void WriteStats(kube::Client& client, const std::string& ns, const std::string& name,
                const std::vector<PathOutcome>& outcomes, const kube::LogFn& log) {
  auto patched = client.Patch(kRecoveries, ns, name, kube::PatchType::kMerge, StatsPatch(outcomes), "status");
  if (!patched.ok()) log("cannot record the stats of Recovery " + ns + "/" + name + ": " + patched.error().message());
}

}  // namespace

Status RestorePathFrom(Repository& repo, const SnapshotEntry& entry, const std::string& path,
                       const kube::LogFn& log) {
  return RestoreFrom(repo, entry, path, log ? log : kube::LogFn([](const std::string&) {}));
}

std::string StatsPatch(const std::vector<PathOutcome>& outcomes) {
  JsonOut j;
  j.Open().Key("status").Open().Key("stats").OpenArray();
  for (const auto& o : outcomes) {
    j.Open().Field("path", o.path).Field("phase", o.status.ok() ? "Succeeded" : "Failed")
        .Field("duration", FormatGoDuration(o.took.count())).Close();
  }
  j.CloseArray().Close().Close();
  return j.Take();
}

Status RunRecovery(kube::Client& client, const std::string& ns, const std::string& name, const kube::LogFn& log) {
  STASH_ASSIGN_OR_RETURN(Source source, ReadSource(client, ns, name));
  STASH_ASSIGN_OR_RETURN(auto repo, OpenRepository(source.repo, source.secret));
  STASH_ASSIGN_OR_RETURN(auto lock, RepositoryLock::Acquire(*repo, LockMode::kShared));
  STASH_ASSIGN_OR_RETURN(auto snapshots, repo->LoadAllSnapshots());
  STASH_RETURN_IF_ERROR(repo->LoadIndex());
  std::string short_id;
  if (!source.spec.snapshot.empty()) {
    STASH_ASSIGN_OR_RETURN(short_id, SnapshotShortId(source.spec.snapshot, source.spec.repository_name));
  }
  std::vector<PathOutcome> outcomes;
  for (const auto& path : source.spec.paths) {
    outcomes.push_back(RecoverPath(*repo, snapshots, short_id, source.repo.host, path, log));
    if (!outcomes.back().status.ok()) log(outcomes.back().status.error().message());
  }
  WriteStats(client, ns, name, outcomes, log);
  for (const auto& o : outcomes) {
    if (!o.status.ok()) return o.status;
  }
  return Status::Ok();
}

bool RetryCanHelp(const Error& error) {
  return error.kind() == ErrorKind::kIO || error.kind() == ErrorKind::kConflict;
}

}  // namespace stash::agent
