#include "agent/create_backupsession.h"

#include "agent/v1beta1_session.h"
#include "base/json_out.h"

namespace stash::agent {

std::string BackupSessionJson(const kube::Json& bc, int64_t unix_seconds) {
  const std::string name = kube::Name(bc);
  auto labels = kube::Labels(bc);
  labels["app.kubernetes.io/component"] = "stash-backup";
  labels["app.kubernetes.io/managed-by"] = "stash.appscode.com";
  labels["stash.appscode.com/backup-configuration"] = name;
  JsonOut j;
  j.Open().Field("apiVersion", kBackupSessions.ApiVersion()).Field("kind", kBackupSessions.kind);
  j.Key("metadata").Open().Field("name", name + "-" + std::to_string(unix_seconds));
  j.Field("namespace", kube::Namespace(bc)).Key("labels").Open();
  for (const auto& [key, value] : labels) j.Field(key, value);
  j.Close().Key("ownerReferences").OpenArray().Open();
  j.Field("apiVersion", kBackupConfigurations.ApiVersion()).Field("kind", kBackupConfigurations.kind);
  j.Field("name", name).Field("uid", kube::Uid(bc)).Key("controller").Bool(true);
  j.Key("blockOwnerDeletion").Bool(false).Close().CloseArray().Close();
  j.Key("spec").Open().Key("backupConfiguration").Open().Field("name", name).Close().Close();
  j.Close();
  return j.Take();
}

Result<CreatedSession> CreateBackupSession(kube::Client& client, const std::string& ns, const std::string& name,
                                           int64_t unix_seconds) {
  const std::string what = "BackupConfiguration " + ns + "/" + name;
  auto bc = client.Get(kBackupConfigurations, ns, name);
  if (!bc.ok()) {
    if (bc.error().kind() == ErrorKind::kNotFound) return NotFound(what + " not found");
    return bc.error().Wrap(what);
  }
  CreatedSession out;
  const kube::Json* paused = kube::At(**bc, "/spec/paused");
  if (paused && paused->IsBool() && paused->GetBool()) {
    out.message = "Skipping creating BackupSession: " + what + " is paused";
    return out;
  }
  auto created = client.Create(kBackupSessions, ns, BackupSessionJson(**bc, unix_seconds));
  if (!created.ok()) return created.error().Wrap("create BackupSession for " + what);
  out.name = kube::Name(**created);
  out.message = "BackupSession " + ns + "/" + out.name + " created";
  return out;
}

}  // namespace stash::agent
