#include "operator/scaledown_cronjob.h"

#include <sstream>
#include <vector>

#include "base/json_out.h"

namespace stash::op {
namespace {

void Labels(JsonOut& j, const std::string& restic) {
  j.Key("labels").Open().Field("app", "stash").Field("restic", restic)
      .Field("operation", kScaledownOperationLabel).Close();
}

void Metadata(JsonOut& j, const kube::Json& restic) {
  const std::string name = kube::Name(restic);
  j.Key("metadata").Open().Field("name", ScaledownCronJobName(name)).Field("namespace", kube::Namespace(restic));
  Labels(j, name);
  j.Key("ownerReferences").OpenArray().Open().Field("apiVersion", "stash.appscode.com/v1alpha1")
      .Field("kind", "Restic").Field("name", name).Field("uid", kube::Uid(restic)).FieldBool("controller", true)
      .Close().CloseArray();
  j.Close();
}

void PullSecrets(JsonOut& j, const kube::Json& restic) {
  const kube::Json* secrets = kube::At(restic, "/spec/imagePullSecrets");
  if (!secrets || !secrets->IsArray() || secrets->Empty()) return;
  j.Key("imagePullSecrets").OpenArray();
  for (const auto& s : secrets->GetArray()) {
    if (s.IsObject() && !kube::StringOf(s, "name").empty()) j.Open().Field("name", kube::StringOf(s, "name")).Close();
  }
  j.CloseArray();
}

void JobTemplate(JsonOut& j, const kube::Json& restic, const ScaledownOptions& options) {
  const std::string name = kube::Name(restic);
  j.Key("jobTemplate").Open();
  j.Key("metadata").Open();
  Labels(j, name);
  j.Close();
  // Never restart in place: a failed run keeps its pod and log, and the
  // retry starts from the workloads' recorded state (old-replica).
  j.Key("spec").Open().FieldInt("backoffLimit", 1).Key("template").Open();
  j.Key("metadata").Open();
  Labels(j, name);
  j.Close();
  j.Key("spec").Open().Field("serviceAccountName", ScaledownCronJobName(name)).Field("restartPolicy", "Never");
  j.Key("containers").OpenArray().Open().Field("name", "stash").Field("image", options.image);
  j.FieldStrings("args", {"scaledown", "--restic-name=" + name});
  j.Close().CloseArray();
  PullSecrets(j, restic);
  j.Close().Close().Close().Close();
}

std::vector<std::string> Fields(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

}  // namespace

std::string ScaledownCronJobName(const std::string& restic) { return "stash-scaledown-cron-" + restic; }

bool WantsScaledownCronJob(const kube::Json& restic) {
  return kube::StringAt(restic, "/spec/type") == "offline" && !kube::BeingDeleted(restic);
}

Result<std::string> CronJobSchedule(const kube::Json& restic) {
  const std::string schedule = kube::StringAt(restic, "/spec/schedule");
  auto fields = Fields(schedule);
  const std::string what = "Restic " + kube::KeyOf(restic) + ": schedule \"" + schedule + "\"";
  if (fields.empty()) return Invalid(what + " is empty; an offline Restic needs one for its scale-down CronJob");
  if (fields.front().starts_with("@")) return schedule;
  if (fields.size() == 5) return schedule;
  if (fields.size() == 6) {
    // Kubernetes has no seconds field; the run happens in the same minute.
    std::string out;
    for (size_t i = 1; i < fields.size(); ++i) out += (i > 1 ? " " : "") + fields[i];
    return out;
  }
  return Invalid(what + " has " + std::to_string(fields.size()) + " fields; a cron schedule has five (or six " +
                 "with seconds)");
}

Result<std::string> ScaledownCronJobJson(const kube::Json& restic, const ScaledownOptions& options) {
  auto schedule = CronJobSchedule(restic);
  if (!schedule.ok()) return schedule.error();
  const kube::Json* paused = kube::At(restic, "/spec/paused");
  JsonOut j;
  j.Open().Field("apiVersion", kCronJobs.ApiVersion()).Field("kind", kCronJobs.kind);
  Metadata(j, restic);
  j.Key("spec").Open().Field("schedule", *schedule).FieldBool("suspend", paused && paused->IsTrue())
      .Field("concurrencyPolicy", "Forbid");
  JobTemplate(j, restic, options);
  j.Close().Close();
  return j.Take();
}

std::string ScaledownServiceAccountJson(const kube::Json& restic) {
  JsonOut j;
  j.Open().Field("apiVersion", "v1").Field("kind", "ServiceAccount");
  Metadata(j, restic);
  j.Close();
  return j.Take();
}

std::string ScaledownRoleBindingJson(const kube::Json& restic) {
  JsonOut j;
  j.Open().Field("apiVersion", kube::resources::kRoleBindings.ApiVersion()).Field("kind", kube::resources::kRoleBindings.kind);
  Metadata(j, restic);
  j.Key("roleRef").Open().Field("apiGroup", "rbac.authorization.k8s.io").Field("kind", "ClusterRole")
      .Field("name", kScaledownClusterRole).Close();
  j.Key("subjects").OpenArray().Open().Field("kind", "ServiceAccount")
      .Field("name", ScaledownCronJobName(kube::Name(restic))).Field("namespace", kube::Namespace(restic))
      .Close().CloseArray();
  j.Close();
  return j.Take();
}

}  // namespace stash::op
