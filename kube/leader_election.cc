#include "kube/leader_election.h"

#include <thread>

#include <rapidjson/pointer.h>

#include "kube/events.h"
#include "base/json_out.h"

namespace stash::kube {

LeaderElector::LeaderElector(Client* client, LeaderElectionConfig config, LogFn log)
    : client_(client), config_(std::move(config)), log_(std::move(log)) {}

std::string LeaderElector::observed_holder() const {
  std::lock_guard<std::mutex> lock(mu_);
  return observed_holder_;
}

std::string LeaderElector::LeaseJson(const std::string& resource_version, const std::string& acquire_time,
                                     int transitions) const {
  JsonOut j;
  j.Open().Field("apiVersion", "coordination.k8s.io/v1").Field("kind", "Lease");
  j.Key("metadata").Open().Field("name", config_.name).Field("namespace", config_.ns);
  if (!resource_version.empty()) j.Field("resourceVersion", resource_version);
  j.Close();
  j.Key("spec").Open().Field("holderIdentity", config_.identity)
      .FieldInt("leaseDurationSeconds", config_.lease_duration.count())
      .Field("acquireTime", acquire_time)
      .Field("renewTime", Rfc3339Micro(std::chrono::system_clock::now()))
      .FieldInt("leaseTransitions", transitions)
      .Close();
  j.Close();
  return j.Take();
}

bool LeaderElector::TryAcquireOrRenew() {
  const auto& leases = resources::kLeases;
  auto now_wall = Rfc3339Micro(std::chrono::system_clock::now());
  auto lease = client_->Get(leases, config_.ns, config_.name);
  if (!lease.ok()) {
    if (lease.error().kind() != ErrorKind::kNotFound) {
      if (log_) log_("leader election: " + lease.error().message());
      return leading_ = false;
    }
    auto created = client_->Create(leases, config_.ns, LeaseJson("", now_wall, 0));
    return leading_ = created.ok();
  }
  const Json& l = **lease;
  std::string holder = StringAt(l, "/spec/holderIdentity");
  std::string record = holder + "\n" + StringAt(l, "/spec/renewTime");
  const Json* duration_field = At(l, "/spec/leaseDurationSeconds");
  auto duration = duration_field && duration_field->IsInt() ? std::chrono::seconds(duration_field->GetInt())
                                                            : config_.lease_duration;
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (record != observed_record_) {
      observed_record_ = record;
      observed_at_ = now;
    }
    observed_holder_ = holder;
    if (!holder.empty() && holder != config_.identity && now < observed_at_ + duration) {
      return leading_ = false;  // someone else holds a live lease
    }
  }
  const Json* transitions_field = At(l, "/spec/leaseTransitions");
  int transitions = transitions_field && transitions_field->IsInt() ? transitions_field->GetInt() : 0;
  std::string acquire = StringAt(l, "/spec/acquireTime");
  if (holder != config_.identity) {
    ++transitions;
    acquire = now_wall;
  }
  auto updated = client_->Update(leases, config_.ns, LeaseJson(ResourceVersion(l), acquire, transitions));
  if (!updated.ok()) return leading_ = false;  // 409: another candidate was faster
  std::lock_guard<std::mutex> lock(mu_);
  observed_record_ = config_.identity + "\n" + StringAt(**updated, "/spec/renewTime");
  observed_holder_ = config_.identity;
  observed_at_ = now;
  return leading_ = true;
}

void LeaderElector::Release() {
  if (!leading_) return;
  client_->Modify(resources::kLeases, config_.ns, config_.name, [&](rapidjson::Document& lease) {
    if (StringAt(lease, "/spec/holderIdentity") != config_.identity) return false;
    rapidjson::Pointer("/spec/holderIdentity").Set(lease, "");
    rapidjson::Pointer("/spec/leaseDurationSeconds").Set(lease, 1);
    return true;
  });
  leading_ = false;
}

void LeaderElector::Run(const std::function<void(const std::atomic<bool>& lost)>& lead,
                        const std::atomic<bool>& stop) {
  auto sleep = [&](std::chrono::milliseconds d) {
    for (auto end = std::chrono::steady_clock::now() + d; !stop && std::chrono::steady_clock::now() < end;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  };
  while (!stop) {
    if (!TryAcquireOrRenew()) {
      sleep(config_.retry_period);
      continue;
    }
    if (log_) log_("leader election: " + config_.identity + " leads " + config_.ns + "/" + config_.name);
    std::atomic<bool> lost{false};
    std::thread renewer([&] {
      auto last_renew = std::chrono::steady_clock::now();
      while (!stop && !lost) {
        sleep(config_.retry_period);
        if (stop) break;
        if (TryAcquireOrRenew()) {
          last_renew = std::chrono::steady_clock::now();
        } else if (std::chrono::steady_clock::now() - last_renew > config_.renew_deadline ||
                   (observed_holder() != config_.identity && !observed_holder().empty())) {
          if (log_) log_("leader election: " + config_.identity + " lost the lease");
          lost = true;
        }
      }
      lost = true;
    });
    lead(lost);
    lost = true;
    renewer.join();
  }
  Release();
}

}  // namespace stash::kube
