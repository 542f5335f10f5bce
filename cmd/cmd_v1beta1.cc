// The commands the v1beta1 generation of Stash runs in pods (agent/ holds
// what they do):
//
//   stash create-backupsession --backupsession.name=BC --backupsession.namespace=NS
//       a BackupConfiguration's CronJob: one BackupSession
//   stash run-backup --backupconfiguration=BC --target-kind=K --target-name=N [--pushgateway-url=U]
//       the sidecar of a workload: backs up its host for every session
//   stash restore-session --restoresession=RS --target-kind=K --target-name=N
//       the init container of a workload: restores its host once
//   stash update-status --namespace=NS --repository=R --backup-session=S|--restore-session=S --output-dir=D
//   stash backup-pg / restore-pg --namespace=NS --appbinding=A --repository=R --hostname=H --output-dir=D ...
//       the steps of the PostgreSQL Tasks (a Job)
//
// The pod gives POD_NAME, NODE_NAME and NAMESPACE; the cluster is
// --kubeconfig, else $KUBECONFIG, else the pod's service account; the
// namespace is --namespace, else $NAMESPACE, else the service account's.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <thread>

#include "agent/create_backupsession.h"
#include "agent/v1beta1_backup.h"
#include "agent/v1beta1_job.h"
#include "agent/v1beta1_restore.h"
#include "agent/workload.h"
#include "base/log.h"
#include "cmd/commands.h"
#include "kube/config.h"

namespace stash::cli {
namespace {

void Log(const std::string& line) { LogLine(line); }

Result<std::unique_ptr<kube::Client>> Connect(const Args& args) {
  STASH_ASSIGN_OR_RETURN(auto access, kube::ResolveAccess(args.Get("kubeconfig")));
  auto client = kube::Client::Create(access);
  if (!client.ok()) return client.error().Wrap("cluster " + access.server);
  return client;
}

std::string NamespaceOf(const Args& args, const kube::Client& client, const char* flag = "namespace") {
  std::string ns = args.Get(flag);
  if (ns.empty()) ns = Env("NAMESPACE");
  if (ns.empty()) ns = client.default_namespace();
  return ns;
}

FlagSpec KubeconfigFlag() {
  return {"kubeconfig", 0, true, "cluster to use (default: $KUBECONFIG, then the pod's service account)", "file"};
}
FlagSpec NamespaceFlag() {
  return {"namespace", 0, true, "namespace of the objects (default: $NAMESPACE, then the pod's)", "ns"};
}
FlagSpec StatusSubresourceFlag() {
  return {"enable-status-subresource", 0, true, "accepted for Stash compatibility", "bool"};
}

// The flags of a command that runs in a workload's pod: the cluster, the
// namespace, `first` (what to serve), the workload and the Pushgateway.
std::vector<FlagSpec> WorkloadPodFlags(FlagSpec first) {
  return {KubeconfigFlag(),
          NamespaceFlag(),
          std::move(first),
          {"target-kind", 0, true, "kind of the workload the pod belongs to", "kind"},
          {"target-name", 0, true, "name of that workload", "name"},
          {"pushgateway-url", 0, true, "Prometheus Pushgateway to push metrics to", "url"},
          StatusSubresourceFlag()};
}

// Reads what WorkloadPodFlags declare, and the pod's POD_NAME and
// NODE_NAME, into a command's options; an error message when the workload
// is not named or its kind is not one Stash backs up.
template <class Options>
std::optional<std::string> ReadWorkloadPod(const Args& args, const std::string& command, Options& o) {
  o.target_kind = args.Get("target-kind");
  o.target_name = args.Get("target-name");
  if (o.target_kind.empty() || o.target_name.empty()) return command + " needs --target-kind and --target-name";
  if (auto kind = agent::CanonicalKind(o.target_kind); !kind.ok()) return kind.error().message();
  o.pod_name = Env("POD_NAME");
  o.node_name = Env("NODE_NAME");
  o.pushgateway_url = args.Get("pushgateway-url");
  return std::nullopt;
}

int RunCreateBackupSession(const Args& args, const Globals&) {
  if (!args.positional().empty()) return Fatal("create-backupsession takes no arguments");
  const std::string name = args.Get("backupsession.name");
  if (name.empty()) return Fatal("create-backupsession needs --backupsession.name (the BackupConfiguration)");
  auto client = Connect(args);
  if (!client.ok()) return Fatal(client.error());
  const std::string ns = NamespaceOf(args, **client, "backupsession.namespace");
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch()).count();
  auto created = agent::CreateBackupSession(**client, ns, name, seconds);
  if (!created.ok()) return Fatal(created.error());
  std::cout << created->message << "\n";
  return kExitOk;
}

int RunRunBackup(const Args& args, const Globals&) {
  if (!args.positional().empty()) return Fatal("run-backup backs up the BackupConfiguration's paths and takes no arguments");
  agent::RunBackupOptions o;
  o.bc_name = args.Get("backupconfiguration");
  if (o.bc_name.empty()) return Fatal("run-backup needs --backupconfiguration");
  if (auto bad = ReadWorkloadPod(args, "run-backup", o)) return Fatal(*bad);
  auto client = Connect(args);
  if (!client.ok()) return Fatal(client.error());
  o.ns = NamespaceOf(args, **client);
  static std::atomic<bool> stop{false};  // outlives the detached signal thread
  StopOnSignals(stop, "stopping");
  Log("stash run-backup for BackupConfiguration " + o.ns + "/" + o.bc_name + " in " + o.target_kind + " " +
      o.target_name);
  return agent::RunBackupSidecar(**client, o, stop, Log) == 0 ? kExitOk : kExitError;
}

int RunRestoreSessionCommand(const Args& args, const Globals&) {
  if (!args.positional().empty()) return Fatal("restore-session takes no arguments");
  agent::RestoreSessionOptions o;
  o.name = args.Get("restoresession");
  if (o.name.empty()) return Fatal("restore-session needs --restoresession");
  if (auto bad = ReadWorkloadPod(args, "restore-session", o)) return Fatal(*bad);
  auto client = Connect(args);
  if (!client.ok()) return Fatal(client.error());
  o.ns = NamespaceOf(args, **client);
  auto outcome = agent::RunRestoreSession(**client, o, Log);
  if (!outcome.ok()) return Fatal(outcome.error());
  if (outcome->skipped) return kExitOk;
  if (outcome->stats.phase != "Succeeded") return Fatal("restore of host " + outcome->stats.hostname + " failed: " + outcome->stats.error);
  Log("restored host " + outcome->stats.hostname + " in " + outcome->stats.duration);
  return kExitOk;
}

int RunUpdateStatusCommand(const Args& args, const Globals&) {
  if (!args.positional().empty()) return Fatal("update-status takes no arguments");
  agent::UpdateStatusOptions o;
  o.repository = args.Get("repository");
  o.backup_session = args.Get("backup-session");
  o.restore_session = args.Get("restore-session");
  o.output_dir = args.Get("output-dir");
  if (o.output_dir.empty()) o.output_dir = "/tmp/output";
  auto client = Connect(args);
  if (!client.ok()) return Fatal(client.error());
  o.ns = NamespaceOf(args, **client);
  Status done = agent::RunUpdateStatus(**client, o, Log);
  if (!done.ok()) return Fatal(done.error());
  return kExitOk;
}

std::vector<std::string> SplitList(const std::string& text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(sep, start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Result<int> Count(const Args& args, const char* flag) {
  std::string text = args.Get(flag, "0");
  if (text.empty()) return 0;
  char* end = nullptr;
  long v = std::strtol(text.c_str(), &end, 10);
  if (*end != '\0' || v < 0 || v > 1000000) return Invalid(std::string("--") + flag + " \"" + text + "\" is not a count");
  return static_cast<int>(v);
}

bool Truthy(const Args& args, const char* flag) {
  if (!args.Has(flag)) return false;
  std::string v = args.Get(flag, "true");
  return v.empty() || v == "true";
}

Result<agent::DatabaseStepOptions> DatabaseOptions(const Args& args, const kube::Client& client) {
  agent::DatabaseStepOptions o;
  o.ns = NamespaceOf(args, client);
  o.appbinding = args.Get("appbinding");
  o.repository = args.Get("repository");
  if (o.repository.empty()) return Invalid("--repository (the Task's ${REPOSITORY_NAME}) is empty");
  o.hostname = args.Get("hostname", "host-0");
  if (o.hostname.empty()) o.hostname = "host-0";
  o.source_hostname = args.Get("source-hostname");
  o.snapshots = SplitList(args.Get("snapshot"), ',');
  o.output_dir = args.Get("output-dir", o.output_dir);
  if (o.output_dir.empty()) o.output_dir = "/tmp/output";
  o.extra_args = SplitList(args.Get("pg-args"), ' ');
  STASH_ASSIGN_OR_RETURN(o.retention.keep_last, Count(args, "retention-keep-last"));
  STASH_ASSIGN_OR_RETURN(o.retention.keep_hourly, Count(args, "retention-keep-hourly"));
  STASH_ASSIGN_OR_RETURN(o.retention.keep_daily, Count(args, "retention-keep-daily"));
  STASH_ASSIGN_OR_RETURN(o.retention.keep_weekly, Count(args, "retention-keep-weekly"));
  STASH_ASSIGN_OR_RETURN(o.retention.keep_monthly, Count(args, "retention-keep-monthly"));
  STASH_ASSIGN_OR_RETURN(o.retention.keep_yearly, Count(args, "retention-keep-yearly"));
  o.retention.keep_tags = SplitList(args.Get("retention-keep-tags"), ',');
  o.retention.prune = Truthy(args, "retention-prune");
  o.retention.dry_run = Truthy(args, "retention-dry-run");
  return o;
}

int RunDatabaseStep(const Args& args, bool backup) {
  if (!args.positional().empty()) return Fatal(std::string(backup ? "backup-pg" : "restore-pg") + " takes no arguments");
  auto client = Connect(args);
  if (!client.ok()) return Fatal(client.error());
  auto o = DatabaseOptions(args, **client);
  if (!o.ok()) return Fatal(o.error());
  auto output = backup ? agent::BackupPostgres(**client, *o, Log) : agent::RestorePostgres(**client, *o, Log);
  const HostStats& stats = backup ? *output.backup : *output.restore;
  Log(std::string(backup ? "backup" : "restore") + " of host " + stats.hostname + " " + stats.phase +
      (stats.error.empty() ? "" : ": " + stats.error));
  Status written = agent::WriteStepOutput(o->output_dir, output);
  if (!written.ok()) return Fatal(written.error().Wrap("output.json"));
  return kExitOk;
}

int RunBackupPg(const Args& args, const Globals&) { return RunDatabaseStep(args, true); }
int RunRestorePg(const Args& args, const Globals&) { return RunDatabaseStep(args, false); }

std::vector<FlagSpec> DatabaseFlags(bool backup) {
  std::vector<FlagSpec> flags = {
      KubeconfigFlag(), NamespaceFlag(),
      {"appbinding", 0, true, "the AppBinding of the database (${TARGET_NAME})", "name"},
      {"repository", 0, true, "the Repository (${REPOSITORY_NAME})", "name"},
      {"hostname", 0, true, "restic host of the snapshots (${HOSTNAME}, default host-0)", "host"},
      {"output-dir", 0, true, "where output.json goes for update-status (default /tmp/output)", "dir"},
      {"pg-args", 0, true, "extra arguments of pg_dumpall / psql, space separated", "args"},
      {"provider", 0, true, "accepted for Stash compatibility (the Repository names the backend)", "string"},
      {"bucket", 0, true, "accepted for Stash compatibility", "string"},
      {"endpoint", 0, true, "accepted for Stash compatibility", "string"},
      {"path", 0, true, "accepted for Stash compatibility", "string"},
      {"secret-dir", 0, true, "accepted for Stash compatibility", "dir"},
      {"scratch-dir", 0, true, "accepted for Stash compatibility", "dir"},
      {"enable-cache", 0, true, "accepted for Stash compatibility", "bool"},
      {"max-connections", 0, true, "accepted for Stash compatibility", "n"},
  };
  if (backup) {
    for (const char* keep : {"last", "hourly", "daily", "weekly", "monthly", "yearly"}) {
      flags.push_back({std::string("retention-keep-") + keep, 0, true, std::string("keep the ") + keep + " n snapshots of the host", "n"});
    }
    flags.push_back({"retention-keep-tags", 0, true, "keep snapshots with these tags (comma separated)", "tags"});
    flags.push_back({"retention-prune", 0, true, "prune after forgetting (true/false)", "bool"});
    flags.push_back({"retention-dry-run", 0, true, "only say what retention would forget (true/false)", "bool"});
  } else {
    flags.push_back({"source-hostname", 0, true, "restore the dump of this host (default: --hostname)", "host"});
    flags.push_back({"snapshot", 0, true, "restore these snapshots (${RESTORE_SNAPSHOTS}; default: the newest)", "ids"});
  }
  return flags;
}

}  // namespace

Command CreateBackupSessionCommand() {
  return {"create-backupsession", "Create a BackupSession for a BackupConfiguration (its CronJob's command)",
          {KubeconfigFlag(),
           {"backupsession.name", 0, true, "the BackupConfiguration to create a session of", "name"},
           {"backupsession.namespace", 0, true, "its namespace (default: $NAMESPACE, then the pod's)", "ns"},
           StatusSubresourceFlag()},
          RunCreateBackupSession, "[flags]", /*uses_repository=*/false};
}

Command RunBackupCommand() {
  return {"run-backup", "Back up this pod's host for each BackupSession (the v1beta1 sidecar)",
          WorkloadPodFlags({"backupconfiguration", 0, true, "the BackupConfiguration whose sessions to serve", "name"}),
          RunRunBackup, "[flags]", /*uses_repository=*/false};
}

Command RestoreSessionCommand() {
  return {"restore-session", "Restore this pod's host from a RestoreSession (the v1beta1 init container)",
          WorkloadPodFlags({"restoresession", 0, true, "the RestoreSession to restore", "name"}),
          RunRestoreSessionCommand, "[flags]", /*uses_repository=*/false};
}

Command UpdateStatusCommand() {
  return {"update-status", "Report a Task step's output.json to its BackupSession or RestoreSession",
          {KubeconfigFlag(), NamespaceFlag(),
           {"repository", 0, true, "the Repository whose status a backup updates", "name"},
           {"backup-session", 0, true, "the BackupSession to report to", "name"},
           {"restore-session", 0, true, "the RestoreSession to report to", "name"},
           {"output-dir", 0, true, "where the previous step wrote output.json", "dir"},
           StatusSubresourceFlag()},
          RunUpdateStatusCommand, "[flags]", /*uses_repository=*/false};
}

Command BackupPgCommand() {
  return {"backup-pg", "Back up a PostgreSQL server (an AppBinding) with pg_dumpall (a Task step)",
          DatabaseFlags(true), RunBackupPg, "[flags]", /*uses_repository=*/false};
}

Command RestorePgCommand() {
  return {"restore-pg", "Restore a PostgreSQL dump into the server of an AppBinding with psql (a Task step)",
          DatabaseFlags(false), RunRestorePg, "[flags]", /*uses_repository=*/false};
}

}  // namespace stash::cli
