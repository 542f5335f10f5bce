#include "agent/sidecar.h"

#include <unistd.h>

#include "agent/backup_session.h"
#include "agent/schedule_loop.h"
#include "base/version.h"
#include "kube/events.h"
#include "kube/leader_election.h"

namespace stash::agent {
namespace {

std::string HostName() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

// The check Job runs as this pod does: its `stash` container's image and its
// service account, when the pod can be read.
void FillFromPod(kube::Client& client, const SidecarOptions& o, AgentContext& ctx) {
  ctx.check_image = o.image;
  if (!o.workload.pod_name.empty()) {
    auto pod = client.Get(kube::resources::kPods, o.ns, o.workload.pod_name);
    if (pod.ok()) {
      ctx.check_service_account = kube::StringAt(**pod, "/spec/serviceAccountName");
      const kube::Json* containers = kube::At(**pod, "/spec/containers");
      for (size_t i = 0; containers && containers->IsArray() && i < containers->Size(); ++i) {
        const kube::Json& c = (*containers)[static_cast<rapidjson::SizeType>(i)];
        if (ctx.check_image.empty() && c.IsObject() && kube::StringOf(c, "name") == "stash") {
          ctx.check_image = kube::StringOf(c, "image");
        }
      }
    }
  }
  if (ctx.check_image.empty()) ctx.check_image = std::string("stash:") + STASH_VERSION;
}

}  // namespace

int RunSidecar(kube::Client& client, const SidecarOptions& o, const std::atomic<bool>& stop, kube::LogFn log) {
  std::string host = o.workload.pod_name.empty() ? HostName() : o.workload.pod_name;
  kube::EventRecorder events(&client, "stash-backup", o.workload.node_name.empty() ? host : o.workload.node_name, log);
  AgentContext ctx;
  ctx.client = &client;
  ctx.events = &events;
  ctx.log = log;
  ctx.ns = o.ns;
  ctx.restic_name = o.restic_name;
  ctx.workload = o.workload;
  ctx.pod_hostname = host;
  ctx.pushgateway_url = o.pushgateway_url;
  ctx.pod_labels_path = o.pod_labels_path;
  FillFromPod(client, o, ctx);

  if (!o.run_via_cron) return RunBackupSession(ctx) == SessionResult::kFailed ? 1 : 0;
  if (!SharesRepository(o.workload)) {
    RunScheduleLoop(ctx, stop);
    return 0;
  }
  kube::LeaderElectionConfig election;
  election.ns = o.ns;
  election.name = LeaderLockName(o.workload);
  election.identity = host;
  election.lease_duration = o.lease_duration;
  election.renew_deadline = o.renew_deadline;
  election.retry_period = o.retry_period;
  kube::LeaderElector elector(&client, election, log);
  if (log) log("waiting to lead " + o.ns + "/" + election.name + " as " + host);
  elector.Run([&](const std::atomic<bool>& lost) { RunScheduleLoop(ctx, lost); }, stop);
  return 0;
}

}  // namespace stash::agent
