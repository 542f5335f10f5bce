#include "stashapi/restic_spec.h"

#include <rapidjson/pointer.h>

#include "stashapi/stash_repository.h"

#include <set>

namespace stash {
namespace {

using Json = rapidjson::Value;

const Json* At(const Json& object, const char* pointer) { return rapidjson::Pointer(pointer).Get(object); }

std::string StringOf(const Json& object, const char* key) {
  if (!object.IsObject()) return "";
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

std::string StringAt(const Json& object, const char* pointer) {
  const Json* v = At(object, pointer);
  return v && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : "";
}

int IntOf(const Json& object, const char* key) {
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsInt64()) return 0;
  return static_cast<int>(it->value.GetInt64());
}

bool BoolOf(const Json& object, const char* key) {
  auto it = object.FindMember(key);
  return it != object.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

std::vector<std::string> StringsOf(const Json& object, const char* key) {
  std::vector<std::string> out;
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsArray()) return out;
  for (const auto& v : it->value.GetArray()) {
    if (v.IsString()) out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return out;
}

// The objects of an array member; none when absent.
std::vector<const Json*> ObjectsAt(const Json& restic, const char* pointer) {
  std::vector<const Json*> out;
  const Json* array = At(restic, pointer);
  if (!array || !array->IsArray()) return out;
  for (const auto& v : array->GetArray()) out.push_back(&v);
  return out;
}

Result<std::vector<RetentionPolicy>> PoliciesOf(const Json& restic) {
  std::vector<RetentionPolicy> out;
  std::set<std::string> names;
  for (const Json* p : ObjectsAt(restic, "/spec/retentionPolicies")) {
    if (!p->IsObject()) continue;
    RetentionPolicy r = ParseRetentionPolicy(*p);
    if (!names.insert(r.name).second) return Invalid("retention policy name " + r.name + " is not unique");
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<FileGroup>> FileGroupsOf(const Json& restic, const std::vector<RetentionPolicy>& policies) {
  std::vector<FileGroup> out;
  auto groups = ObjectsAt(restic, "/spec/fileGroups");
  for (size_t i = 0; i < groups.size(); ++i) {
    if (!groups[i]->IsObject()) continue;
    std::string field = "spec.fileGroups[" + std::to_string(i) + "]";
    FileGroup g;
    g.path = StringOf(*groups[i], "path");
    g.tags = StringsOf(*groups[i], "tags");
    g.retention_policy_name = StringOf(*groups[i], "retentionPolicyName");
    if (g.path.empty() || g.path[0] != '/') return Invalid(field + ".path \"" + g.path + "\" is not an absolute path");
    bool found = g.retention_policy_name.empty();
    for (const auto& p : policies) found = found || p.name == g.retention_policy_name;
    if (!found) return Invalid(field + ".retentionPolicyName " + g.retention_policy_name + " is not found");
    out.push_back(std::move(g));
  }
  if (out.empty()) return Invalid("spec.fileGroups is empty: nothing to back up");
  return out;
}

Result<ResticSpec> Parse(const Json& restic) {
  ResticSpec s;
  s.ns = StringAt(restic, "/metadata/namespace");
  s.name = StringAt(restic, "/metadata/name");
  s.uid = StringAt(restic, "/metadata/uid");
  s.schedule = StringAt(restic, "/spec/schedule");
  const Json* paused = At(restic, "/spec/paused");
  s.paused = paused && paused->IsBool() && paused->GetBool();
  STASH_ASSIGN_OR_RETURN(s.retention_policies, PoliciesOf(restic));
  STASH_ASSIGN_OR_RETURN(s.file_groups, FileGroupsOf(restic, s.retention_policies));
  const Json* backend = At(restic, "/spec/backend");
  if (!backend || !backend->IsObject()) return Invalid("spec.backend is missing");
  s.storage_secret_name = StringOf(*backend, "storageSecretName");
  if (s.storage_secret_name.empty()) return Invalid("missing repository secret name (spec.backend.storageSecretName)");
  s.backend = BackendFromJson(*backend, {});  // a Restic carries no sidecar labels
  if (s.backend.type.empty()) return Invalid("spec.backend names no storage backend");
  for (const Json* ref : ObjectsAt(restic, "/spec/imagePullSecrets")) {
    if (ref->IsObject() && !StringOf(*ref, "name").empty()) s.image_pull_secrets.push_back(StringOf(*ref, "name"));
  }
  return s;
}

}  // namespace

RetentionPolicy ParseRetentionPolicy(const Json& p) {
  RetentionPolicy r;
  if (!p.IsObject()) return r;
  r.name = StringOf(p, "name");
  r.keep_last = IntOf(p, "keepLast"), r.keep_hourly = IntOf(p, "keepHourly");
  r.keep_daily = IntOf(p, "keepDaily"), r.keep_weekly = IntOf(p, "keepWeekly");
  r.keep_monthly = IntOf(p, "keepMonthly"), r.keep_yearly = IntOf(p, "keepYearly");
  r.keep_tags = StringsOf(p, "keepTags");
  r.prune = BoolOf(p, "prune");
  r.dry_run = BoolOf(p, "dryRun");
  return r;
}

const RetentionPolicy* ResticSpec::PolicyFor(const FileGroup& group) const {
  if (group.retention_policy_name.empty()) return nullptr;
  for (const auto& p : retention_policies) {
    if (p.name == group.retention_policy_name) return &p;
  }
  return nullptr;
}

Result<ResticSpec> ParseRestic(const Json& restic) {
  auto spec = Parse(restic);
  if (!spec.ok()) return spec.error().Wrap("Restic " + StringAt(restic, "/metadata/namespace") + "/" + StringAt(restic, "/metadata/name"));
  return spec;
}

}  // namespace stash
