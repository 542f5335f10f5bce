#include "operator/restic_match.h"

#include "operator/label_selector.h"
#include "operator/v1beta1_sidecar.h"

namespace stash::op {

std::vector<kube::ObjectPtr> SelectingRestics(
    const std::vector<kube::ObjectPtr>& restics, const kube::Json& workload,
    const std::function<void(const kube::ObjectPtr&, const Error&)>& on_invalid) {
  std::vector<kube::ObjectPtr> out;
  auto labels = kube::Labels(workload);
  for (const auto& restic : restics) {
    if (kube::BeingDeleted(*restic)) continue;
    auto matches = SelectorMatches(kube::At(*restic, "/spec/selector"), labels);
    if (!matches.ok()) {
      if (on_invalid) on_invalid(restic, matches.error());
      continue;
    }
    if (*matches) out.push_back(restic);
  }
  return out;
}

Result<bool> ApplyRestics(rapidjson::Document& workload, const std::string& kind,
                          const std::vector<kube::ObjectPtr>& selecting, const SidecarOptions& options) {
  if (selecting.size() == 1) return InjectSidecar(workload, kind, *selecting.front(), options);
  // Only a sidecar we added (it carries our annotation) is ever taken out.
  if (!kube::Annotations(workload).count(kLastAppliedAnnotation)) return false;
  return RemoveSidecar(workload);
}

WorkloadClaims ClaimsOn(const StashListers& listers, const kube::Json& workload, const std::string& kind,
                        const std::function<void(const kube::ObjectPtr&, const Error&)>& on_invalid) {
  WorkloadClaims c;
  const std::string ns = kube::Namespace(workload), name = kube::Name(workload);
  if (listers.restics) c.restics = SelectingRestics(listers.restics(ns), workload, on_invalid);
  if (listers.backup_configurations) {
    for (const auto& bc : listers.backup_configurations(ns)) {
      if (TargetsWorkload(*bc, kind, name)) c.backup_configurations.push_back(bc);
    }
  }
  if (listers.restore_sessions) {
    for (const auto& rs : listers.restore_sessions(ns)) {
      if (TargetsWorkload(*rs, kind, name)) c.restore_sessions.push_back(rs);
    }
  }
  return c;
}

namespace {

std::string Names(const char* kind, const std::vector<kube::ObjectPtr>& objects) {
  std::string out;
  for (const auto& o : objects) out += std::string(out.empty() ? "" : ", ") + kind + " " + kube::Name(*o);
  return out;
}

}  // namespace

Result<bool> ApplyClaims(rapidjson::Document& workload, const std::string& kind, const WorkloadClaims& claims,
                         const StashListers& listers, const SidecarOptions& options,
                         std::vector<std::string>* warnings) {
  const std::string before = kube::ToJson(workload);
  const std::string ns = kube::Namespace(workload);
  size_t backups = claims.restics.size() + claims.backup_configurations.size();
  if (backups > 1 && warnings && claims.backup_configurations.empty()) {
    warnings->push_back("Restics " + ResticNames(claims.restics) + " all select this " + kind +
                        "; no stash sidecar is added");
  } else if (backups > 1 && warnings) {
    std::string who = Names("Restic", claims.restics);
    std::string bcs = Names("BackupConfiguration", claims.backup_configurations);
    if (!who.empty() && !bcs.empty()) who += ", ";
    warnings->push_back(who + bcs + " all back up this " + kind + "; no stash sidecar is added");
  }
  if (claims.restore_sessions.size() > 1 && warnings) {
    warnings->push_back(Names("RestoreSession", claims.restore_sessions) + " all restore this " + kind +
                        "; no stash-init container is added");
  }
  auto repository = [&](const kube::Json& object) -> Result<kube::ObjectPtr> {
    std::string repo = kube::StringAt(object, "/spec/repository/name");
    kube::ObjectPtr r = listers.repository && !repo.empty() ? listers.repository(ns, repo) : nullptr;
    if (!r) return Invalid("Repository " + ns + "/" + repo + " named by " + kube::Name(object) + " not found");
    return r;
  };
  STASH_RETURN_IF_ERROR(
      ApplyRestics(workload, kind, backups == 1 ? claims.restics : std::vector<kube::ObjectPtr>{}, options));
  if (backups == 1 && claims.backup_configurations.size() == 1) {
    const kube::Json& bc = *claims.backup_configurations.front();
    STASH_ASSIGN_OR_RETURN(kube::ObjectPtr repo, repository(bc));
    STASH_RETURN_IF_ERROR(InjectBackupSidecar(workload, kind, bc, *repo, options));
  } else {
    RemoveBackupSidecar(workload);
  }
  if (claims.restore_sessions.size() == 1) {
    const kube::Json& rs = *claims.restore_sessions.front();
    STASH_ASSIGN_OR_RETURN(kube::ObjectPtr repo, repository(rs));
    STASH_RETURN_IF_ERROR(InjectRestoreInit(workload, kind, rs, *repo, options));
  } else {
    RemoveRestoreInit(workload);
  }
  return kube::ToJson(workload) != before;
}

bool ControlledByDeployment(const kube::Json& workload) {
  const kube::Json* owners = kube::At(workload, "/metadata/ownerReferences");
  if (!owners || !owners->IsArray()) return false;
  for (const auto& owner : owners->GetArray()) {
    const kube::Json* controller = kube::At(owner, "/controller");
    if (kube::StringOf(owner, "kind") == "Deployment" && controller && controller->IsBool() && controller->GetBool()) {
      return true;
    }
  }
  return false;
}

bool NeedsPodRestart(const std::string& kind) { return kind == "ReplicaSet" || kind == "ReplicationController"; }

std::string ResticNames(const std::vector<kube::ObjectPtr>& restics) {
  std::string names;
  for (const auto& r : restics) names += (names.empty() ? "" : ", ") + kube::Name(*r);
  return names;
}

}  // namespace stash::op
