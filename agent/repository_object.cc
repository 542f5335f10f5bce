#include "agent/repository_object.h"

#include <rapidjson/pointer.h>

#include "stashapi/go_duration.h"
#include "base/json_out.h"
#include "kube/events.h"

namespace stash::agent {
namespace {

using rapidjson::Pointer;
using rapidjson::Value;

Value Text(const std::string& s, rapidjson::Document& doc) { return Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), doc.GetAllocator()); }

bool SetLabels(rapidjson::Document& doc, const std::map<std::string, std::string>& labels) {
  bool changed = false;
  auto current = kube::Labels(doc);
  for (const auto& [key, value] : labels) {
    auto it = current.find(key);
    if (it != current.end() && it->second == value) continue;
    Value* meta = Pointer("/metadata").Get(doc);
    if (!meta || !meta->IsObject()) meta = &Pointer("/metadata").Set(doc, Value(rapidjson::kObjectType));
    if (!meta->HasMember("labels") || !(*meta)["labels"].IsObject()) {
      meta->RemoveMember("labels");
      meta->AddMember("labels", Value(rapidjson::kObjectType), doc.GetAllocator());
    }
    Value& map = (*meta)["labels"];
    map.RemoveMember(key.c_str());
    map.AddMember(Text(key, doc), Text(value, doc), doc.GetAllocator());
    changed = true;
  }
  return changed;
}

bool SetBackend(rapidjson::Document& doc, const std::string& backend_json) {
  rapidjson::Document want;
  want.Parse(backend_json.c_str(), backend_json.size());
  if (want.HasParseError()) return false;
  const Value* have = Pointer("/spec/backend").Get(doc);
  if (have && *have == want) return false;
  Pointer("/spec/backend").Set(doc, Value(want, doc.GetAllocator()));
  return true;
}

}  // namespace

std::string RepositoryJson(const RepositoryObject& want) {
  JsonOut j;
  j.Open().Field("apiVersion", kRepositories.ApiVersion()).Field("kind", kRepositories.kind);
  j.Key("metadata").Open().Field("name", want.name).Field("namespace", want.ns).Key("labels").Open();
  for (const auto& [key, value] : want.labels) j.Field(key, value);
  j.Close().Close();
  j.Key("spec").Open().Key("backend").Raw(want.backend_json).Close();
  j.Close();
  return j.Take();
}

bool UpdateRepository(rapidjson::Document& existing, const RepositoryObject& want) {
  bool labels = SetLabels(existing, want.labels);
  bool backend = SetBackend(existing, want.backend_json);
  return labels || backend;
}

void RecordBackup(rapidjson::Document& repo, std::chrono::system_clock::time_point start,
                  std::chrono::nanoseconds duration) {
  auto& a = repo.GetAllocator();
  const Value* count = Pointer("/status/backupCount").Get(repo);
  int64_t n = count && count->IsInt64() ? count->GetInt64() : 0;
  Pointer("/status/backupCount").Set(repo, n + 1);
  std::string when = kube::Rfc3339(start);
  Pointer("/status/lastBackupTime").Set(repo, Value(when.c_str(), a));
  const Value* first = Pointer("/status/firstBackupTime").Get(repo);
  if (!first || !first->IsString() || first->GetStringLength() == 0) {
    Pointer("/status/firstBackupTime").Set(repo, Value(when.c_str(), a));
  }
  std::string took = FormatGoDuration(duration.count());
  Pointer("/status/lastBackupDuration").Set(repo, Value(took.c_str(), a));
}

Status EnsureRepository(kube::Client& client, const RepositoryObject& want) {
  const std::string what = "Repository " + want.ns + "/" + want.name;
  auto update = [&](rapidjson::Document& doc) { return UpdateRepository(doc, want); };
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto modified = client.Modify(kRepositories, want.ns, want.name, update);
    if (modified.ok()) return Status::Ok();
    if (modified.error().kind() != ErrorKind::kNotFound) return modified.error().Wrap(what);
    auto created = client.Create(kRepositories, want.ns, RepositoryJson(want));
    if (created.ok()) return Status::Ok();
    if (kube::Reason(created.error()) != "AlreadyExists") return created.error().Wrap(what);
  }
  return Conflict(what + ": created and removed by someone else while we tried");
}

Status RecordBackupStatus(kube::Client& client, const std::string& ns, const std::string& name,
                          std::chrono::system_clock::time_point start, std::chrono::nanoseconds duration) {
  auto record = [&](rapidjson::Document& doc) {
    RecordBackup(doc, start, duration);
    return true;
  };
  auto done = client.Modify(kRepositories, ns, name, record, /*status=*/true);
  if (!done.ok()) return done.error().Wrap("status of Repository " + ns + "/" + name);
  return Status::Ok();
}

}  // namespace stash::agent
