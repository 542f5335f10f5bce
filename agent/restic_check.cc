#include "agent/restic_check.h"

#include "agent/backup_session.h"
#include "stashapi/restic_spec.h"
#include "agent/storage_access.h"
#include "engine/checker.h"
#include "storage/lock.h"

namespace stash::agent {
namespace {

Result<ResticCheckResult> Check(kube::Client& client, const kube::Json& restic, const ResticCheckOptions& o) {
  STASH_ASSIGN_OR_RETURN(ResticSpec spec, ParseRestic(restic));
  STASH_ASSIGN_OR_RETURN(auto secret, ReadStorageSecret(client, spec.ns, spec.storage_secret_name));
  STASH_ASSIGN_OR_RETURN(auto opened, OpenHostRepository(spec.backend, o.smart_prefix, secret, o.host, /*create=*/false));
  ResticCheckResult out;
  out.location = opened.location;
  STASH_ASSIGN_OR_RETURN(auto lock, RepositoryLock::Acquire(*opened.repo, LockMode::kExclusive));
  Checker checker(*opened.repo);
  CheckFindings index = checker.LoadIndex();
  out.notes = index.notes;
  out.errors = index.errors;
  if (!out.errors.empty()) return out;  // later phases rely on the index
  for (CheckFindings found : {checker.CheckPacks(), checker.CheckStructure()}) {
    out.errors.insert(out.errors.end(), found.errors.begin(), found.errors.end());
    out.notes.insert(out.notes.end(), found.notes.begin(), found.notes.end());
  }
  return out;
}

}  // namespace

Result<ResticCheckResult> CheckResticRepository(kube::Client& client, kube::EventRecorder& events,
                                                const ResticCheckOptions& o) {
  const std::string what = "Restic " + o.ns + "/" + o.restic_name;
  auto restic = client.Get(kRestics, o.ns, o.restic_name);
  if (!restic.ok()) {
    if (restic.error().kind() == ErrorKind::kNotFound) return NotFound(what + " not found");
    return restic.error().Wrap(what);
  }
  auto result = Check(client, **restic, o);
  std::string problem;
  if (!result.ok()) {
    problem = result.error().message();
  } else if (!result->errors.empty()) {
    problem = std::to_string(result->errors.size()) + " error(s) in " + result->location + ", the first: " +
              result->errors.front();
  }
  if (!problem.empty()) {
    events.Warning(kube::ObjectReference::Of(**restic), reason::kFailedToCheck,
                   "Repository check failed for host " + o.host + ": " + problem);
  }
  return result;
}

}  // namespace stash::agent
