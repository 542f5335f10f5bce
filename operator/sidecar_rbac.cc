#include "operator/sidecar_rbac.h"

#include "base/json_out.h"
#include "base/string_util.h"
#include "operator/sidecar.h"

namespace stash::op {
namespace {

std::string WorkloadApiVersion(const std::string& kind) {
  for (const auto& r : WorkloadResources()) {
    if (r.kind == kind) return r.ApiVersion();
  }
  return "apps/v1";
}

}  // namespace

std::string SidecarRoleBindingName(const std::string& kind, const std::string& name) {
  return "stash-sidecar-" + AsciiLower(kind) + "-" + name;
}

namespace {
std::string BindingName(const std::string& kind, const std::string& name, const std::string& cluster_role) {
  if (cluster_role == kSidecarClusterRole) return SidecarRoleBindingName(kind, name);
  return "stash-v1beta1-" + AsciiLower(kind) + "-" + name;
}
}  // namespace

std::string SidecarRoleBindingJson(const std::string& kind, const kube::Json& workload,
                                   const std::string& cluster_role) {
  std::string account = kube::StringAt(workload, "/spec/template/spec/serviceAccountName");
  if (account.empty()) account = "default";
  std::string ns = kube::Namespace(workload), name = kube::Name(workload);
  JsonOut j;
  j.Open().Field("apiVersion", kube::resources::kRoleBindings.ApiVersion()).Field("kind", kube::resources::kRoleBindings.kind);
  j.Key("metadata").Open().Field("name", BindingName(kind, name, cluster_role)).Field("namespace", ns);
  j.Key("labels").Open().Field("app", "stash").Close();
  j.Key("ownerReferences").OpenArray().Open().Field("apiVersion", WorkloadApiVersion(kind)).Field("kind", kind)
      .Field("name", name).Field("uid", kube::StringAt(workload, "/metadata/uid")).Close().CloseArray();
  j.Close();
  j.Key("roleRef").Open().Field("apiGroup", "rbac.authorization.k8s.io").Field("kind", "ClusterRole")
      .Field("name", cluster_role).Close();
  j.Key("subjects").OpenArray().Open().Field("kind", "ServiceAccount").Field("name", account)
      .Field("namespace", ns).Close().CloseArray();
  j.Close();
  return j.Take();
}

Status EnsureSidecarRoleBinding(kube::Client& client, const std::string& kind, const kube::Json& workload,
                                const std::string& cluster_role) {
  std::string name = BindingName(kind, kube::Name(workload), cluster_role);
  auto applied = client.Apply(kube::resources::kRoleBindings, kube::Namespace(workload), name,
                              SidecarRoleBindingJson(kind, workload, cluster_role),
                              "stash-operator");
  if (!applied.ok()) return applied.error().Wrap("RoleBinding " + name);
  return Status::Ok();
}

}  // namespace stash::op
