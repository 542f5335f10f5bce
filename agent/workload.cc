#include "agent/workload.h"

#include <algorithm>
#include <cctype>

#include "base/string_util.h"

namespace stash::agent {
namespace {

}  // namespace

Result<std::string> CanonicalKind(const std::string& kind) {
  static const std::map<std::string, std::string> kAliases = {
      {"deployment", "Deployment"},   {"deployments", "Deployment"},
      {"deploy", "Deployment"},       {"replicaset", "ReplicaSet"},
      {"replicasets", "ReplicaSet"},  {"rs", "ReplicaSet"},
      {"replicationcontroller", "ReplicationController"},
      {"replicationcontrollers", "ReplicationController"},
      {"rc", "ReplicationController"}, {"statefulset", "StatefulSet"},
      {"statefulsets", "StatefulSet"}, {"sts", "StatefulSet"},
      {"daemonset", "DaemonSet"},     {"daemonsets", "DaemonSet"},
      {"ds", "DaemonSet"}};
  auto it = kAliases.find(AsciiLower(kind));
  if (it == kAliases.end()) {
    return Invalid("workload kind \"" + kind +
                   "\" is not one of Deployment, ReplicaSet, ReplicationController, StatefulSet, DaemonSet");
  }
  return it->second;
}

Result<Workload> MakeWorkload(const std::string& kind, const std::string& name, const std::string& pod_name,
                              const std::string& node_name) {
  Workload w;
  STASH_ASSIGN_OR_RETURN(w.kind, CanonicalKind(kind));
  if (name.empty()) return Invalid("the workload name is empty (--workload-name)");
  w.name = name;
  w.pod_name = pod_name;
  w.node_name = node_name;
  if (w.kind == "StatefulSet" && pod_name.empty()) return Invalid("missing POD_NAME for StatefulSet " + name);
  if (w.kind == "DaemonSet" && node_name.empty()) return Invalid("missing NODE_NAME for DaemonSet " + name);
  return w;
}

bool SharesRepository(const Workload& w) {
  return w.kind == "Deployment" || w.kind == "ReplicaSet" || w.kind == "ReplicationController";
}

std::string SnapshotHost(const Workload& w) {
  if (w.kind == "StatefulSet") return w.pod_name;
  if (w.kind == "DaemonSet") return w.node_name;
  return w.name;
}

std::string SmartPrefix(const Workload& w) {
  if (w.kind == "StatefulSet") return "statefulset/" + w.pod_name;
  if (w.kind == "DaemonSet") return "daemonset/" + w.name + "/" + w.node_name;
  return AsciiLower(w.kind) + "/" + w.name;
}

std::string RepositoryName(const Workload& w) {
  if (w.kind == "StatefulSet") return "statefulset." + w.pod_name;
  if (w.kind == "DaemonSet") return "daemonset." + w.name + "." + w.node_name;
  return AsciiLower(w.kind) + "." + w.name;
}

std::map<std::string, std::string> RepositoryLabels(const Workload& w, const std::string& restic) {
  std::map<std::string, std::string> labels = {
      {"restic", restic}, {"workload-kind", w.kind}, {"workload-name", w.name}};
  if (w.kind == "StatefulSet") labels["pod-name"] = w.pod_name;
  if (w.kind == "DaemonSet") labels["node-name"] = w.node_name;
  return labels;
}

std::string LeaderLockName(const Workload& w) { return AsciiLower("lock-" + w.kind + "-" + w.name); }

}  // namespace stash::agent
