#include "operator/restic_match.h"

#include "operator/label_selector.h"

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
