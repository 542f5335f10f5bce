#include "operator/recovery_job.h"

#include "base/json_out.h"

namespace stash::op {
namespace {

constexpr char kScratchVolume[] = "stash-scratchdir";
constexpr char kScratchPath[] = "/tmp";
constexpr char kLocalVolume[] = "stash-local";

bool Inside(const std::string& path, const std::string& folder) {
  return folder == "/" || path == folder || path.starts_with(folder + "/");
}

void Labels(JsonOut& j, const std::string& recovery) {
  j.Key("labels").Open().Field("app", "stash").Field("recovery", recovery).Field("operation", "recovery").Close();
}

void OwnedBy(JsonOut& j, const RecoverySpec& spec) {
  j.Key("ownerReferences").OpenArray().Open().Field("apiVersion", kRecoveries.ApiVersion())
      .Field("kind", kRecoveries.kind).Field("name", spec.name).Field("uid", spec.uid).FieldBool("controller", true)
      .Close().CloseArray();
}

void Metadata(JsonOut& j, const RecoverySpec& spec) {
  j.Key("metadata").Open().Field("name", RecoveryJobName(spec.name)).Field("namespace", spec.ns);
  Labels(j, spec.name);
  OwnedBy(j, spec);
  j.Close();
}

// A volume from an inline source (a recovered volume, the local backend):
// every member but mountPath and subPath, as written.
void VolumeFrom(JsonOut& j, const std::string& name, const kube::Json& source) {
  j.Open().Field("name", name);
  for (const auto& m : source.GetObject()) {
    std::string key(m.name.GetString(), m.name.GetStringLength());
    if (key != "mountPath" && key != "subPath") j.Key(key).Raw(kube::ToJson(m.value));
  }
  j.Close();
}

void Mount(JsonOut& j, const std::string& name, const std::string& path, const std::string& sub_path) {
  j.Open().Field("name", name).Field("mountPath", path);
  if (!sub_path.empty()) j.Field("subPath", sub_path);
  j.Close();
}

void Container(JsonOut& j, const RecoverySpec& spec, const StashRepository& repo, const RecoveryJobOptions& options) {
  j.Open().Field("name", "stash").Field("image", options.image);
  j.FieldStrings("args", {"recover", "--recovery-name=" + spec.name});
  j.Field("terminationMessagePolicy", "FallbackToLogsOnError");
  j.Key("volumeMounts").OpenArray();
  Mount(j, kScratchVolume, kScratchPath, "");
  for (size_t i = 0; i < spec.volumes.size(); ++i) {
    Mount(j, "vol-" + std::to_string(i), spec.volumes[i].mount_path, spec.volumes[i].sub_path);
  }
  if (repo.backend.type == "local") Mount(j, kLocalVolume, repo.backend.mount_path, repo.backend.sub_path);
  j.CloseArray().Close();
}

void Volumes(JsonOut& j, const kube::Json& recovery, const kube::Json& repository, const StashRepository& repo) {
  j.Key("volumes").OpenArray();
  j.Open().Field("name", kScratchVolume).Key("emptyDir").Open().Close().Close();
  const kube::Json* volumes = kube::At(recovery, "/spec/recoveredVolumes");
  for (rapidjson::SizeType i = 0; volumes && i < volumes->Size(); ++i) {
    VolumeFrom(j, "vol-" + std::to_string(i), (*volumes)[i]);
  }
  const kube::Json* local = kube::At(repository, "/spec/backend/local");
  if (repo.backend.type == "local" && local) VolumeFrom(j, kLocalVolume, *local);
  j.CloseArray();
}

// 0.8.3's job failure rules became a pod failure policy: exit code 2 fails
// the Job at once, a pod disrupted by the cluster does not count.
void FailurePolicy(JsonOut& j) {
  j.Key("podFailurePolicy").Open().Key("rules").OpenArray();
  j.Open().Field("action", "FailJob").Key("onExitCodes").Open().Field("containerName", "stash")
      .Field("operator", "In").Key("values").OpenArray().Int(kRecoverPermanentExit).CloseArray().Close().Close();
  j.Open().Field("action", "Ignore").Key("onPodConditions").OpenArray().Open().Field("type", "DisruptionTarget")
      .Close().CloseArray().Close();
  j.CloseArray().Close();
}

void PodSpec(JsonOut& j, const kube::Json& recovery, const RecoverySpec& spec, const kube::Json& repository,
             const StashRepository& repo, const RecoveryJobOptions& options) {
  j.Key("spec").Open();
  j.Field("serviceAccountName", RecoveryJobName(spec.name)).Field("restartPolicy", "Never");
  j.Key("containers").OpenArray();
  Container(j, spec, repo, options);
  j.CloseArray();
  Volumes(j, recovery, repository, repo);
  if (!spec.image_pull_secrets.empty()) {
    j.Key("imagePullSecrets").OpenArray();
    for (const auto& s : spec.image_pull_secrets) j.Open().Field("name", s).Close();
    j.CloseArray();
  }
  if (!repo.node_name.empty()) {
    j.Field("nodeName", repo.node_name);  // a DaemonSet's data lives on its node
  } else if (!spec.node_selector.empty()) {
    j.Key("nodeSelector").Open();
    for (const auto& [k, v] : spec.node_selector) j.Field(k, v);
    j.Close();
  }
  j.Close();
}

Status CheckPlaces(const RecoverySpec& spec, const StashRepository& repo) {
  for (const auto& v : spec.volumes) {
    if (v.mount_path == kScratchPath) return Invalid("a recovered volume's mountPath is /tmp, the scratch folder");
    if (repo.backend.type == "local" && v.mount_path == repo.backend.mount_path) {
      return Invalid("a recovered volume's mountPath " + v.mount_path + " is the local repository's mountPath");
    }
  }
  if (repo.backend.type != "local") return Status::Ok();
  const std::string& mount = repo.backend.mount_path;
  if (mount.empty() || mount[0] != '/') {
    return Invalid("Repository " + repo.ns + "/" + repo.name + ": local backend mountPath \"" + mount +
                   "\" is not an absolute path");
  }
  for (const auto& path : spec.paths) {
    if (Inside(path, repo.backend.mount_path) || Inside(repo.backend.mount_path, path)) {
      return Invalid("path " + path + " overlaps the local repository's mountPath " + repo.backend.mount_path);
    }
  }
  return Status::Ok();
}

}  // namespace

std::string RecoveryJobName(const std::string& recovery) { return "stash-recovery-" + recovery; }

Result<std::string> RecoveryJobJson(const kube::Json& recovery, const RecoverySpec& spec,
                                    const kube::Json& repository, const StashRepository& repo,
                                    const RecoveryJobOptions& options) {
  Status places = CheckPlaces(spec, repo);
  if (!places.ok()) return places.error().Wrap("Recovery " + spec.ns + "/" + spec.name);
  JsonOut j;
  j.Open().Field("apiVersion", kJobs.ApiVersion()).Field("kind", kJobs.kind);
  Metadata(j, spec);
  j.Key("spec").Open().FieldInt("backoffLimit", 2);
  FailurePolicy(j);
  j.Key("template").Open().Key("metadata").Open();
  Labels(j, spec.name);
  j.Close();
  PodSpec(j, recovery, spec, repository, repo, options);
  j.Close().Close().Close();
  return j.Take();
}

std::string RecoveryServiceAccountJson(const RecoverySpec& spec) {
  JsonOut j;
  j.Open().Field("apiVersion", "v1").Field("kind", "ServiceAccount");
  Metadata(j, spec);
  j.Close();
  return j.Take();
}

std::string RecoveryRoleBindingJson(const RecoverySpec& spec) {
  JsonOut j;
  j.Open().Field("apiVersion", kRoleBindings.ApiVersion()).Field("kind", kRoleBindings.kind);
  Metadata(j, spec);
  j.Key("roleRef").Open().Field("apiGroup", "rbac.authorization.k8s.io").Field("kind", "ClusterRole")
      .Field("name", kRecoveryClusterRole).Close();
  j.Key("subjects").OpenArray().Open().Field("kind", "ServiceAccount").Field("name", RecoveryJobName(spec.name))
      .Field("namespace", spec.ns).Close().CloseArray();
  j.Close();
  return j.Take();
}

}  // namespace stash::op
