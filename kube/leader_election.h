// LeaderElector: one leader among replicas, through a coordination.k8s.io/v1
// Lease, as client-go's leader election does it.
//
// A candidate takes the Lease when it is absent, unheld, or not renewed for
// leaseDurationSeconds as measured on the candidate's own clock since it
// last saw the record change (so clock skew between nodes does not matter).
// Writes are conditional on the resourceVersion read, so two candidates
// cannot both win. The leader renews every retry period; if it cannot renew
// within the renew deadline it stops leading. Release() empties the holder
// so a successor need not wait out the lease.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "kube/client.h"
#include "kube/informer.h"

namespace stash::kube {

struct LeaderElectionConfig {
  std::string ns, name;  // the Lease
  std::string identity;  // this candidate (pod name)
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
};

class LeaderElector {
 public:
  LeaderElector(Client* client, LeaderElectionConfig config, LogFn log = nullptr);

  // One round: take or renew the lease. True when this candidate holds it.
  bool TryAcquireOrRenew();
  // Gives the lease up if held.
  void Release();

  // Campaigns until `stop`; while leading, `lead` runs on this thread with
  // a flag that turns true when leadership is lost or `stop` is set, and
  // must return soon after. Releases the lease on the way out.
  void Run(const std::function<void(const std::atomic<bool>& lost)>& lead, const std::atomic<bool>& stop);

  bool leading() const { return leading_.load(); }
  // The holder last seen in the Lease.
  std::string observed_holder() const;

 private:
  std::string LeaseJson(const std::string& resource_version, const std::string& acquire_time,
                        int transitions) const;

  Client* client_;
  LeaderElectionConfig config_;
  LogFn log_;
  std::atomic<bool> leading_{false};
  mutable std::mutex mu_;
  std::string observed_record_;  // holder + renewTime, to notice changes
  std::string observed_holder_;
  std::chrono::steady_clock::time_point observed_at_{};
};

}  // namespace stash::kube
