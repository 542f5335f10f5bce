#include "operator/scaledown_reconcile.h"

namespace stash::op {
namespace {

constexpr char kFieldManager[] = "stash-operator";
constexpr char kFailedCronJob[] = "FailedCronJob";

std::string Named(const kube::Resource& r, const std::string& ns, const std::string& name) {
  return r.kind + " " + ns + "/" + name;
}

Result<kube::ObjectPtr> ApplyOne(kube::Client& client, const kube::Resource& r, const std::string& ns,
                                 const std::string& name, const std::string& json) {
  auto applied = client.Apply(r, ns, name, json, kFieldManager);
  if (!applied.ok()) return applied.error().Wrap("apply " + Named(r, ns, name));
  return applied;
}

Status Ensure(kube::Client& client, kube::EventRecorder& events, const ScaledownTarget& t,
              const ScaledownOptions& options, const kube::LogFn& log) {
  const kube::Json& restic = *t.restic;
  auto cronjob = ScaledownCronJobJson(restic, options);
  if (!cronjob.ok()) {
    events.Warning(kube::ObjectReference::Of(restic), kFailedCronJob, cronjob.error().message());
    return Status::Ok();
  }
  const std::string name = ScaledownCronJobName(t.name);
  auto account = ApplyOne(client, kube::resources::kServiceAccounts, t.ns, name, ScaledownServiceAccountJson(restic));
  if (!account.ok()) return account.error();
  auto binding = ApplyOne(client, kube::resources::kRoleBindings, t.ns, name, ScaledownRoleBindingJson(restic));
  if (!binding.ok()) return binding.error();
  auto applied = ApplyOne(client, kCronJobs, t.ns, name, *cronjob);
  if (!applied.ok() && applied.error().kind() == ErrorKind::kInvalid) {
    events.Warning(kube::ObjectReference::Of(restic), kFailedCronJob, applied.error().message());
    return Status::Ok();
  }
  if (!applied.ok()) return applied.error();
  if (!t.existing && log) log("applied " + Named(kCronJobs, t.ns, name) + " for offline Restic " + t.name);
  return Status::Ok();
}

Status Remove(kube::Client& client, const ScaledownTarget& t, const kube::LogFn& log) {
  const std::string name = ScaledownCronJobName(t.name);
  for (const auto* r : {&kube::resources::kRoleBindings, &kube::resources::kServiceAccounts}) {
    Status s = client.Delete(*r, t.ns, name);
    if (!s.ok()) return s.error().Wrap("delete " + Named(*r, t.ns, name));
  }
  // The Jobs it started go with it (and their pods with them).
  auto done = client.Request("DELETE", kCronJobs.Path(t.ns, name),
                             R"({"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"})",
                             "application/json");
  if (!done.ok() && done.error().kind() != ErrorKind::kNotFound) {
    return done.error().Wrap("delete " + Named(kCronJobs, t.ns, name));
  }
  if (log) log("deleted " + Named(kCronJobs, t.ns, name) + ": Restic " + t.name + " is not offline");
  return Status::Ok();
}

}  // namespace

Status ReconcileScaledown(kube::Client& client, kube::EventRecorder& events, const ScaledownTarget& target,
                          const ScaledownOptions& options, const kube::LogFn& log) {
  if (target.restic && WantsScaledownCronJob(*target.restic)) return Ensure(client, events, target, options, log);
  if (!target.existing) return Status::Ok();
  return Remove(client, target, log);
}

}  // namespace stash::op
