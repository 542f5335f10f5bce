#include "operator/sidecar.h"

#include <rapidjson/pointer.h>

#include <algorithm>

#include "base/json_out.h"
#include "operator/pod_template_edit.h"

namespace stash::op {
namespace {

using Doc = rapidjson::Document;
using Value = rapidjson::Value;

constexpr const char* kOurVolumes[] = {"stash-scratchdir", "stash-podinfo", "stash-local"};

// The image with the tag the Restic's annotation names, if any.
std::string ImageFor(const kube::Json& restic, const std::string& image) {
  std::string tag = kube::Annotations(restic)[kImageTagAnnotation];
  if (tag.empty()) return image;
  size_t colon = image.rfind(':');
  size_t slash = image.rfind('/');
  std::string repo = colon != std::string::npos && (slash == std::string::npos || colon > slash)
                         ? image.substr(0, colon) : image;
  return repo + ":" + tag;
}

std::string ContainerJson(const std::string& kind, const std::string& workload, const kube::Json& restic,
                          const SidecarOptions& options, bool offline) {
  JsonOut j;
  j.Open().Field("name", kSidecarName).Field("image", ImageFor(restic, options.image));
  j.Key("args").OpenArray().Str("backup").Str("--restic-name=" + kube::Name(restic))
      .Str("--workload-kind=" + kind).Str("--workload-name=" + workload);
  if (!offline) j.Str("--run-via-cron=true");
  if (!options.pushgateway_url.empty()) j.Str("--pushgateway-url=" + options.pushgateway_url);
  j.CloseArray();
  j.Key("env").OpenArray();
  for (auto [name, path] : {std::pair<const char*, const char*>{"NODE_NAME", "spec.nodeName"},
                            {"POD_NAME", "metadata.name"}}) {
    j.Open().Field("name", name).Key("valueFrom").Open().Key("fieldRef").Open().Field("fieldPath", path)
        .Close().Close().Close();
  }
  j.CloseArray();
  j.Key("securityContext").Open().FieldInt("runAsUser", 0).FieldInt("runAsGroup", 0).Close();
  if (const kube::Json* resources = kube::At(restic, "/spec/resources")) j.Key("resources").Raw(kube::ToJson(*resources));
  j.Key("volumeMounts").OpenArray();
  j.Open().Field("name", "stash-scratchdir").Field("mountPath", "/tmp").Close();
  j.Open().Field("name", "stash-podinfo").Field("mountPath", "/etc/stash").Close();
  if (const kube::Json* mounts = kube::At(restic, "/spec/volumeMounts"); mounts && mounts->IsArray()) {
    for (const auto& m : mounts->GetArray()) {
      auto copy = kube::Clone(m);
      if (!copy->IsObject()) continue;
      rapidjson::Pointer("/readOnly").Set(*copy, true);  // a backup never writes the data it reads
      j.Raw(kube::ToJson(*copy));
    }
  }
  if (const kube::Json* local = kube::At(restic, "/spec/backend/local")) {
    j.Open().Field("name", "stash-local").Field("mountPath", kube::StringOf(*local, "mountPath"));
    if (!kube::StringOf(*local, "subPath").empty()) j.Field("subPath", kube::StringOf(*local, "subPath"));
    j.Close();
  }
  j.CloseArray();
  j.Close();
  return j.Take();
}

// The volume source of a local backend: the Restic's backend.local without
// its mountPath and subPath.
std::string LocalVolumeJson(const kube::Json& local) {
  JsonOut j;
  j.Open().Field("name", "stash-local");
  for (const auto& m : local.GetObject()) {
    std::string key(m.name.GetString(), m.name.GetStringLength());
    if (key != "mountPath" && key != "subPath") j.Key(key).Raw(kube::ToJson(m.value));
  }
  j.Close();
  return j.Take();
}

std::vector<std::string> VolumesJson(const kube::Json& restic) {
  std::vector<std::string> out = {
      R"({"name":"stash-scratchdir","emptyDir":{}})",
      R"({"name":"stash-podinfo","downwardAPI":{"items":[{"path":"labels","fieldRef":{"fieldPath":"metadata.labels"}}]}})"};
  if (const kube::Json* local = kube::At(restic, "/spec/backend/local"); local && local->IsObject()) {
    out.push_back(LocalVolumeJson(*local));
  }
  return out;
}

}  // namespace

bool HasSidecar(const kube::Json& workload) {
  for (const char* list : {"/spec/template/spec/containers", "/spec/template/spec/initContainers"}) {
    const kube::Json* containers = kube::At(workload, list);
    if (!containers || !containers->IsArray()) continue;
    for (const auto& c : containers->GetArray()) {
      if (kube::StringOf(c, "name") == kSidecarName) return true;
    }
  }
  return false;
}

bool RemoveSidecar(Doc& workload) {
  std::string before = kube::ToJson(workload);
  const char* names[] = {kSidecarName};
  EraseNamed(rapidjson::Pointer("/spec/template/spec/containers").Get(workload), names);
  EraseNamed(rapidjson::Pointer("/spec/template/spec/initContainers").Get(workload), names);
  EraseNamed(rapidjson::Pointer("/spec/template/spec/volumes").Get(workload), kOurVolumes);
  DropEmptyArray(workload, "/spec/template/spec", "initContainers");
  DropEmptyArray(workload, "/spec/template/spec", "volumes");
  if (Value* annotations = rapidjson::Pointer("/metadata/annotations").Get(workload);
      annotations && annotations->IsObject()) {
    annotations->RemoveMember(kLastAppliedAnnotation);
    if (annotations->ObjectEmpty()) rapidjson::Pointer("/metadata").Get(workload)->RemoveMember("annotations");
  }
  return kube::ToJson(workload) != before;
}

Result<bool> InjectSidecar(Doc& workload, const std::string& kind, const kube::Json& restic,
                           const SidecarOptions& options) {
  const kube::Json* pod = kube::At(workload, "/spec/template/spec/containers");
  if (!pod || !pod->IsArray()) return Invalid(kind + " " + kube::KeyOf(workload) + " has no pod template");
  // Every volume the Restic mounts must be one of the pod's: Kubernetes
  // would refuse the workload otherwise.
  if (const kube::Json* mounts = kube::At(restic, "/spec/volumeMounts"); mounts && mounts->IsArray()) {
    for (const auto& m : mounts->GetArray()) {
      std::string volume = kube::StringOf(m, "name");
      Value* volumes = rapidjson::Pointer("/spec/template/spec/volumes").Get(workload);
      bool found = false;
      if (volumes && volumes->IsArray()) {
        for (const auto& v : volumes->GetArray()) found |= kube::StringOf(v, "name") == volume;
      }
      if (!found) {
        return Invalid("Restic " + kube::Name(restic) + " mounts volume \"" + volume + "\", which " + kind + " " +
                       kube::Name(workload) + " does not have");
      }
    }
  }
  std::string before = kube::ToJson(workload);
  RemoveSidecar(workload);
  bool offline = kube::StringAt(restic, "/spec/type") == "offline";
  Value& containers = EnsureArray(workload, offline ? "/spec/template/spec/initContainers"
                                                : "/spec/template/spec/containers");
  AppendJson(workload, containers, ContainerJson(kind, kube::Name(workload), restic, options, offline));
  Value& volumes = EnsureArray(workload, "/spec/template/spec/volumes");
  for (const auto& v : VolumesJson(restic)) AppendJson(workload, volumes, v);
  // "~1" is "/" in a JSON pointer.
  rapidjson::Pointer("/metadata/annotations/restic.appscode.com~1last-applied-configuration")
      .Set(workload, AppliedObject(restic, "stash.appscode.com/v1alpha1", "Restic").c_str(), workload.GetAllocator());
  return kube::ToJson(workload) != before;
}

}  // namespace stash::op
