#include "agent/check_job.h"

#include "base/json_out.h"

namespace stash::agent {
namespace {

void Labels(JsonOut& j, const std::string& restic) {
  j.Key("labels").Open().Field("app", "stash").Field("restic", restic).Field("operation", "check").Close();
}

// The local backend's volume: spec.backend.local without mountPath and
// subPath, named stash-local (as the sidecar mounts it).
void LocalVolume(JsonOut& j, const kube::Json& local) {
  j.Open().Field("name", "stash-local");
  for (const auto& m : local.GetObject()) {
    std::string key(m.name.GetString(), m.name.GetStringLength());
    if (key != "mountPath" && key != "subPath") j.Key(key).Raw(kube::ToJson(m.value));
  }
  j.Close();
}

void Container(JsonOut& j, const ResticSpec& spec, const CheckJobSpec& job, const kube::Json* local) {
  j.Open().Field("name", "stash").Field("image", job.image);
  j.FieldStrings("args", {"check", "--restic-name=" + spec.name, "--host-name=" + job.host,
                          "--smart-prefix=" + job.smart_prefix});
  j.Key("volumeMounts").OpenArray();
  j.Open().Field("name", "stash-scratchdir").Field("mountPath", "/tmp").Close();
  if (local) {
    j.Open().Field("name", "stash-local").Field("mountPath", kube::StringOf(*local, "mountPath"));
    if (!kube::StringOf(*local, "subPath").empty()) j.Field("subPath", kube::StringOf(*local, "subPath"));
    j.Close();
  }
  j.CloseArray().Close();
}

bool HasCondition(const kube::Json& job, const char* type) {
  const kube::Json* conditions = kube::At(job, "/status/conditions");
  if (!conditions || !conditions->IsArray()) return false;
  for (const auto& c : conditions->GetArray()) {
    if (c.IsObject() && kube::StringOf(c, "type") == type && kube::StringOf(c, "status") == "True") return true;
  }
  return false;
}

Status DeleteWithPods(kube::Client& client, const std::string& ns, const std::string& name) {
  // Jobs deleted without a propagation policy leave their pods behind.
  auto done = client.Request("DELETE", kJobs.Path(ns, name),
                             R"({"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"})",
                             "application/json");
  if (!done.ok() && done.error().kind() != ErrorKind::kNotFound) return done.error();
  return Status::Ok();
}

}  // namespace

std::string CheckJobName(const std::string& restic) { return "stash-check-" + restic; }

std::string CheckJobJson(const kube::Json& restic, const ResticSpec& spec, const CheckJobSpec& job) {
  const kube::Json* local = kube::At(restic, "/spec/backend/local");
  if (local && !local->IsObject()) local = nullptr;
  JsonOut j;
  j.Open().Field("apiVersion", "batch/v1").Field("kind", "Job");
  j.Key("metadata").Open().Field("name", CheckJobName(spec.name)).Field("namespace", spec.ns);
  Labels(j, spec.name);
  j.Key("ownerReferences").OpenArray().Open().Field("apiVersion", "stash.appscode.com/v1alpha1")
      .Field("kind", "Restic").Field("name", spec.name).Field("uid", spec.uid).Close().CloseArray();
  j.Close();
  j.Key("spec").Open().Key("template").Open().Key("metadata").Open();
  Labels(j, spec.name);
  j.Close().Key("spec").Open();
  j.Key("containers").OpenArray();
  Container(j, spec, job, local);
  j.CloseArray();
  if (!spec.image_pull_secrets.empty()) {
    j.Key("imagePullSecrets").OpenArray();
    for (const auto& s : spec.image_pull_secrets) j.Open().Field("name", s).Close();
    j.CloseArray();
  }
  if (!job.service_account.empty()) j.Field("serviceAccountName", job.service_account);
  j.Field("restartPolicy", "OnFailure");
  j.Key("volumes").OpenArray().Open().Field("name", "stash-scratchdir").Key("emptyDir").Open().Close().Close();
  if (local) LocalVolume(j, *local);
  j.CloseArray();
  j.Close().Close().Close().Close();
  return j.Take();
}

bool JobFinished(const kube::Json& job) { return HasCondition(job, "Complete") || HasCondition(job, "Failed"); }

Result<CheckJobAction> EnsureCheckJob(kube::Client& client, const kube::Json& restic, const ResticSpec& spec,
                                      const CheckJobSpec& job) {
  const std::string name = CheckJobName(spec.name);
  auto existing = client.Get(kJobs, spec.ns, name);
  if (existing.ok()) return CheckJobAction::kNone;
  if (existing.error().kind() != ErrorKind::kNotFound) return existing.error().Wrap("Job " + spec.ns + "/" + name);
  auto created = client.Create(kJobs, spec.ns, CheckJobJson(restic, spec, job));
  if (created.ok()) return CheckJobAction::kCreated;
  if (kube::Reason(created.error()) == "AlreadyExists") return CheckJobAction::kNone;
  return created.error().Wrap("Job " + spec.ns + "/" + name);
}

Result<CheckJobAction> RenewCheckJob(kube::Client& client, const kube::Json& restic, const ResticSpec& spec,
                                     const CheckJobSpec& job) {
  const std::string name = CheckJobName(spec.name);
  auto existing = client.Get(kJobs, spec.ns, name);
  if (!existing.ok()) {
    if (existing.error().kind() == ErrorKind::kNotFound) return CheckJobAction::kNone;
    return existing.error().Wrap("Job " + spec.ns + "/" + name);
  }
  if (!JobFinished(**existing)) return CheckJobAction::kNone;
  Status deleted = DeleteWithPods(client, spec.ns, name);
  if (!deleted.ok()) return deleted.error().Wrap("Job " + spec.ns + "/" + name);
  return EnsureCheckJob(client, restic, spec, job);
}

}  // namespace stash::agent
