// A Restic's spec.schedule, read as Stash 0.8.3's sidecar read it (the
// robfig/cron v2 dialect), and when it next fires.
//
// Accepted forms:
//   five fields     "min hour day-of-month month day-of-week" (seconds 0)
//   six fields      "sec min hour day-of-month month day-of-week"
//   descriptors     @yearly (@annually), @monthly, @weekly, @daily
//                   (@midnight), @hourly
//   @every <d>      a Go duration ("@every 1m", "@every 1h30m"), whole
//                   seconds, at least one second, counted from the time asked
// A field is a comma list of "*", "?" (same as "*"), "N", "N-M", each with
// an optional "/step" ("N/step" means N to the maximum); months and days of
// week also by name (jan..dec, sun..sat, any case). Days of week run 0-6
// from Sunday. When both day fields are restricted, either may match (cron's
// rule); when one is "*" or "?", both must.
//
// Times are UTC (a container's clock with no TZ set, where the sidecar
// runs); the `TZ=` prefix of later cron versions is refused.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace stash {

using Clock = std::chrono::system_clock;

class CronSchedule {
 public:
  // kInvalid naming the schedule and, for a bad field, the field by name
  // ("schedule \"61 * * * *\": minute field \"61\": 61 is above the maximum 59").
  static Result<CronSchedule> Parse(std::string_view spec);

  // The first time after `t` the schedule fires, in whole seconds; nullopt
  // when it never fires within five years (the 30th of February).
  std::optional<Clock::time_point> Next(Clock::time_point t) const;

  // For `@every`: the interval; zero for calendar schedules.
  std::chrono::seconds every() const { return every_; }

 private:
  bool DayMatches(int day_of_month, int day_of_week) const;

  uint64_t second_ = 0, minute_ = 0, hour_ = 0, dom_ = 0, month_ = 0, dow_ = 0;
  std::chrono::seconds every_{0};
};

}  // namespace stash
