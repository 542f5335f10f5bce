#include "agent/schedule_loop.h"

#include <condition_variable>
#include <mutex>
#include <optional>

#include "stashapi/cron.h"
#include "stashapi/restic_spec.h"
#include "kube/informer.h"

namespace stash::agent {
namespace {

class Loop {
 public:
  explicit Loop(const AgentContext& ctx)
      : ctx_(ctx),
        informer_(ctx.client, kRestics, ctx.ns, kube::ListOptions{"", "metadata.name=" + ctx.restic_name}, ctx.log),
        check_(*CronSchedule::Parse(kCheckSchedule)) {
    informer_.AddHandlers({[this](const kube::ObjectPtr&) { Poke(); },
                           [this](const kube::ObjectPtr&, const kube::ObjectPtr&) { Poke(); },
                           [this](const kube::ObjectPtr&) { Poke(); }});
  }

  void Run(const std::atomic<bool>& stop) {
    informer_.Start();
    while (!stop && !informer_.WaitForSync(std::chrono::seconds(1))) {
    }
    check_next_ = check_.Next(Clock::now());
    while (!stop) {
      Refresh();
      WaitUntil(Deadline(), stop);
      if (stop) break;
      Fire();
    }
    informer_.Stop();
  }

 private:
  void Log(const std::string& line) const {
    if (ctx_.log) ctx_.log(line);
  }

  void Poke() {
    std::lock_guard<std::mutex> lock(mu_);
    ++generation_;
    cv_.notify_all();
  }

  // Re-reads the Restic from the informer; a new schedule text is parsed
  // and timed afresh, an unchanged one keeps its next firing.
  void Refresh() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen_ = generation_;
    }
    kube::ObjectPtr restic = informer_.Get(ctx_.ns, ctx_.restic_name);
    if (!restic) {
      schedule_.reset(), next_.reset(), text_.reset();
      if (!reported_missing_) PodWarning(ctx_, reason::kFailedSetup, "Restic " + ctx_.ns + "/" + ctx_.restic_name + " not found");
      reported_missing_ = true;
      return;
    }
    reported_missing_ = false;
    std::string text = kube::StringAt(*restic, "/spec/schedule");
    if (text_ && *text_ == text) return;
    text_ = text;
    schedule_.reset(), next_.reset();
    auto parsed = CronSchedule::Parse(text);
    if (!parsed.ok()) return Warn(*restic, "invalid " + parsed.error().message());
    schedule_ = *parsed;
    next_ = schedule_->Next(Clock::now());
    if (!next_) return Warn(*restic, "schedule \"" + text + "\" never fires");
    Log("schedule \"" + text + "\": next session at " + kube::Rfc3339(*next_));
  }

  void Warn(const kube::Json& restic, const std::string& message) {
    Log(std::string(reason::kFailedCronJob) + ": " + message);
    ctx_.events->Warning(kube::ObjectReference::Of(restic), reason::kFailedCronJob, message);
  }

  Clock::time_point Deadline() const {
    Clock::time_point d = check_next_.value_or(Clock::time_point::max());
    if (next_ && *next_ < d) d = *next_;
    return d;
  }

  // Until `deadline`, a change of the Restic, or `stop`; `stop` is looked
  // at every 200 ms since nothing signals it.
  void WaitUntil(Clock::time_point deadline, const std::atomic<bool>& stop) {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop && generation_ == seen_) {
      auto now = Clock::now();
      if (now >= deadline) return;
      auto slice = std::min<Clock::duration>(deadline - now, std::chrono::milliseconds(200));
      cv_.wait_for(lock, slice);
    }
  }

  void Fire() {
    if (next_ && Clock::now() >= *next_) {
      Clock::time_point fired = *next_;
      RunBackupSession(ctx_);
      next_ = schedule_->Next(fired);
      if (next_ && *next_ <= Clock::now()) next_ = schedule_->Next(Clock::now());  // skip what we overran
    }
    if (check_next_ && Clock::now() >= *check_next_) {
      RenewCheck();
      check_next_ = check_.Next(Clock::now());
    }
  }

  void RenewCheck() {
    kube::ObjectPtr restic = informer_.Get(ctx_.ns, ctx_.restic_name);
    if (!restic) return;
    auto spec = ParseRestic(*restic);
    if (!spec.ok() || spec->paused) return;
    CheckJobSpec job{SnapshotHost(ctx_.workload), SmartPrefix(ctx_.workload), ctx_.check_image,
                     ctx_.check_service_account};
    auto renewed = RenewCheckJob(*ctx_.client, *restic, *spec, job);
    if (!renewed.ok()) {
      Warn(*restic, "failed to create check job, reason: " + renewed.error().message());
    } else if (*renewed == CheckJobAction::kCreated) {
      ctx_.events->Normal(kube::ObjectReference::Of(*restic), reason::kCheckJobCreated,
                          "Created check job: " + CheckJobName(spec->name));
    }
  }

  const AgentContext& ctx_;
  kube::Informer informer_;
  CronSchedule check_;
  std::optional<Clock::time_point> check_next_;
  std::optional<std::string> text_;
  std::optional<CronSchedule> schedule_;
  std::optional<Clock::time_point> next_;
  bool reported_missing_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t generation_ = 0, seen_ = 0;
};

}  // namespace

void RunScheduleLoop(const AgentContext& ctx, const std::atomic<bool>& stop) { Loop(ctx).Run(stop); }

}  // namespace stash::agent
