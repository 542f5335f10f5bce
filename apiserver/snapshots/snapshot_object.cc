#include "apiserver/snapshots/snapshot_object.h"

#include <cctype>

#include "base/json_out.h"

namespace stash::apiserver {
namespace {

std::string StatusJson(const Snapshot& s) {
  JsonOut out;
  out.Open().Field("tree", s.tree.Hex()).FieldStrings("paths", s.paths);
  out.Field("hostname", s.hostname).Field("username", s.username);
  out.Key("uid").Uint(s.uid).Key("gid").Uint(s.gid);
  if (!s.tags.empty()) out.FieldStrings("tags", s.tags);
  out.Close();
  return out.Take();
}

std::string JoinComma(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& s : list) out += (out.empty() ? "" : ",") + s;
  return out;
}

}  // namespace

const ResourceInfo& SnapshotResourceInfo() {
  static const ResourceInfo info = [] {
    ResourceInfo r;
    r.group = "repositories.stash.appscode.com";
    r.version = "v1alpha1";
    r.plural = "snapshots";
    r.singular = "snapshot";
    r.kind = "Snapshot";
    r.list_kind = "SnapshotList";
    r.namespaced = true;
    r.verbs = {"delete", "deletecollection", "get", "list", "watch"};
    r.categories = {"storage", "appscode", "all"};
    r.description =
        "Snapshot is one backup (restic snapshot) in a Repository, read straight from the "
        "repository's storage. Deleting it removes the snapshot as `restic forget ID` does.";
    r.created_by = "backups";
    return r;
  }();
  return info;
}

const std::vector<TableColumn>& SnapshotColumns() {
  static const std::vector<TableColumn> columns = {
      {"Name", "string", "name", "Name must be unique within a namespace: <repository>-<short id>.", 0},
      {"Repository", "string", "", "The Repository the snapshot belongs to.", 0},
      {"Hostname", "string", "", "The host the backup was taken on.", 0},
      {"Age", "date", "", "Time since the snapshot was taken.", 0},
      {"Paths", "string", "", "The paths that were backed up.", 1},
      {"Tags", "string", "", "The snapshot's tags.", 1},
      {"Created At", "string", "date-time", "When the snapshot was taken (RFC 3339, UTC).", 1},
  };
  return columns;
}

const std::vector<SchemaField>& SnapshotSchema() {
  static const std::vector<SchemaField> fields = {
      {"status", "object", "", "", "The snapshot as restic stores it.", {
           {"tree", "string", "", "", "ID of the snapshot's root tree.", {}},
           {"paths", "array", "", "string", "The paths that were backed up.", {}},
           {"hostname", "string", "", "", "The host the backup was taken on.", {}},
           {"username", "string", "", "", "The user that took the backup.", {}},
           {"uid", "integer", "int32", "", "The user's numeric id.", {}},
           {"gid", "integer", "int32", "", "The user's numeric group id.", {}},
           {"tags", "array", "", "string", "The snapshot's tags.", {}},
       }},
  };
  return fields;
}

ObjectPtr MakeSnapshotObject(const RepositorySpec& repository, const Id& id, const Snapshot& snapshot,
                             uint64_t resource_version) {
  return MakeSnapshotObject(repository, repository.labels, id, snapshot, resource_version);
}

ObjectPtr MakeSnapshotObject(const RepositorySpec& repository, const std::map<std::string, std::string>& labels,
                             const Id& id, const Snapshot& snapshot, uint64_t resource_version) {
  auto o = std::make_shared<Object>();
  ObjectMeta& m = o->meta;
  m.name = repository.name + "-" + id.Short();
  m.ns = repository.ns;
  m.uid = id.Hex();
  m.resource_version = resource_version;
  m.creation_timestamp = snapshot.time.seconds;
  m.labels = labels;
  m.labels["repository"] = repository.name;
  m.labels["hostname"] = snapshot.hostname;
  o->fields.emplace_back("status", StatusJson(snapshot));
  o->cells = {Cell::Text(m.name),
              Cell::Text(repository.name),
              Cell::Text(snapshot.hostname),
              Cell::Age(snapshot.time.seconds),
              Cell::Text(JoinComma(snapshot.paths)),
              Cell::Text(JoinComma(snapshot.tags)),
              Cell::Text(FormatTimestamp(snapshot.time.seconds))};
  const ResourceInfo& info = SnapshotResourceInfo();
  Seal(*o, info.group_version(), info.kind);
  return o;
}

std::optional<std::pair<std::string, std::string>> ParseSnapshotName(const std::string& name) {
  size_t dash = name.rfind('-');
  if (dash == std::string::npos || dash == 0 || name.size() - dash - 1 != 8) return std::nullopt;
  std::string id = name.substr(dash + 1);
  for (char c : id) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) || std::isupper(static_cast<unsigned char>(c))) {
      return std::nullopt;
    }
  }
  return std::make_pair(name.substr(0, dash), id);
}

}  // namespace stash::apiserver
