#include "operator/admission.h"

#include <rapidjson/pointer.h>

#include "base/json_out.h"
#include "crypto/encoding.h"
#include "operator/restic_match.h"
#include "stashapi/cron.h"
#include "stashapi/restic_spec.h"

namespace stash::op {
namespace {

// The parts of a workload the sidecar lives in.
constexpr const char* kPatchedPaths[] = {"/metadata/annotations", "/spec/template"};

std::string JsonAt(const kube::Json& object, const char* pointer) {
  const kube::Json* v = kube::At(object, pointer);
  return v ? kube::ToJson(*v) : "";
}

// A JSONPatch taking `before` to `after` on kPatchedPaths ("add" replaces
// a member that exists), or "" when they agree.
std::string PatchBetween(const kube::Json& before, const kube::Json& after) {
  JsonOut patch;
  patch.OpenArray();
  bool any = false;
  for (const char* path : kPatchedPaths) {
    std::string was = JsonAt(before, path), now = JsonAt(after, path);
    if (was == now) continue;
    any = true;
    patch.Open().Field("op", now.empty() ? "remove" : "add").Field("path", path);
    if (!now.empty()) patch.Key("value").Raw(now);
    patch.Close();
  }
  patch.CloseArray();
  return any ? patch.Take() : "";
}

std::string Answer(const std::string& uid, const std::string& patch, const std::vector<std::string>& warnings,
                   const std::string& denial = "") {
  JsonOut j;
  j.Open().Field("apiVersion", "admission.k8s.io/v1").Field("kind", "AdmissionReview");
  j.Key("response").Open().Field("uid", uid).FieldBool("allowed", denial.empty());
  if (!denial.empty()) {
    j.Key("status").Open().FieldInt("code", 422).Field("reason", "Invalid").Field("message", denial).Close();
  }
  if (!patch.empty()) {
    j.Field("patchType", "JSONPatch").Field("patch", Base64Encode(AsBytes(patch)));
  }
  if (!warnings.empty()) {
    j.Key("warnings").OpenArray();
    for (const auto& w : warnings) j.Str(w);
    j.CloseArray();
  }
  j.Close().Close();
  return j.Take();
}

bool IsWorkloadKind(const std::string& kind) {
  for (const auto& r : WorkloadResources()) {
    if (r.kind == kind) return true;
  }
  return false;
}

Result<rapidjson::Document> ParseReview(std::string_view body) {
  rapidjson::Document review;
  review.Parse(body.data(), body.size());
  if (review.HasParseError() || !review.IsObject()) return Invalid("AdmissionReview: not a JSON object");
  if (kube::StringAt(review, "/request/uid").empty()) return Invalid("AdmissionReview: no request.uid");
  return review;
}

}  // namespace

Status CheckRestic(const kube::Json& restic) {
  STASH_RETURN_IF_ERROR(ParseRestic(restic));
  std::string type = kube::StringAt(restic, "/spec/type");
  if (!type.empty() && type != "online" && type != "offline") {
    return Invalid("spec.type \"" + type + "\" is neither online nor offline");
  }
  std::string schedule = kube::StringAt(restic, "/spec/schedule");
  if (schedule.empty()) return Invalid("spec.schedule is missing");
  auto parsed = CronSchedule::Parse(schedule);
  if (!parsed.ok()) return parsed.error();
  return Status::Ok();
}

Result<AdmissionOutcome> ReviewRestic(std::string_view body) {
  STASH_ASSIGN_OR_RETURN(rapidjson::Document review, ParseReview(body));
  AdmissionOutcome out;
  out.kind = "Restic";
  const kube::Json* object = kube::At(review, "/request/object");
  std::string denial;
  if (object && object->IsObject() && !kube::BeingDeleted(*object)) {
    Status checked = CheckRestic(*object);
    if (!checked.ok()) denial = checked.error().message();
  }
  out.denied = !denial.empty();
  out.review_json = Answer(kube::StringAt(review, "/request/uid"), "", {}, denial);
  return out;
}

Result<AdmissionOutcome> ReviewWorkload(std::string_view body, const ResticLister& restics,
                                        const SidecarOptions& options) {
  StashListers listers;
  listers.restics = restics;
  return ReviewWorkload(body, listers, options);
}

Result<AdmissionOutcome> ReviewWorkload(std::string_view body, const StashListers& listers,
                                        const SidecarOptions& options) {
  STASH_ASSIGN_OR_RETURN(rapidjson::Document review, ParseReview(body));
  std::string uid = kube::StringAt(review, "/request/uid");
  AdmissionOutcome out;
  out.kind = kube::StringAt(review, "/request/kind/kind");
  const kube::Json* object = kube::At(review, "/request/object");
  if (!IsWorkloadKind(out.kind) || !object || !object->IsObject() || kube::BeingDeleted(*object) ||
      ControlledByDeployment(*object)) {
    out.review_json = Answer(uid, "", {});
    return out;
  }
  rapidjson::Document workload;
  workload.CopyFrom(*object, workload.GetAllocator());
  // On CREATE the object may not carry its namespace yet; the request does.
  std::string ns = kube::StringAt(review, "/request/namespace");
  if (kube::Namespace(workload).empty() && !ns.empty()) {
    rapidjson::Pointer("/metadata/namespace").Set(workload, ns.c_str(), workload.GetAllocator());
  }
  auto claims = ClaimsOn(listers, workload, out.kind);
  std::vector<std::string> warnings;
  auto changed = ApplyClaims(workload, out.kind, claims, listers, options, &warnings);
  if (!changed.ok()) warnings.push_back("stash sidecar not added: " + changed.error().message());
  std::string patch = changed.ok() && *changed ? PatchBetween(*object, workload) : "";
  out.patched = !patch.empty();
  out.review_json = Answer(uid, patch, warnings);
  return out;
}

}  // namespace stash::op
