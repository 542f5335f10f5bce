// Which snapshots `forget` keeps: restic 0.14's grouping and expire policy
// (internal/restic/snapshot_group.go, snapshot_policy.go), rule for rule, so
// `stash forget` and `restic forget` remove the same snapshots.
//
// Times are read in the UTC offset stored in each snapshot, as Go keeps the
// offset it parsed: a snapshot at 2022-01-01T23:30:00-08:00 belongs to day
// 2022-01-01 even though it is already January 2nd in UTC.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/snapshot_select.h"
#include "base/go_time.h"
#include "storage/snapshot.h"

namespace stash {

// The --host/--tag/--path filter and tag lists are engine/snapshot_filter.h.

// ---- Durations and calendar arithmetic ----

// restic.Duration: "1y2m3d4h" (any subset, in any order, a later unit
// replacing an earlier one; numbers may be negative).
struct KeepDuration {
  int years = 0, months = 0, days = 0, hours = 0;
  bool Zero() const { return years == 0 && months == 0 && days == 0 && hours == 0; }
};
// Errors carry restic's wording: "invalid unit 'x' found after number 3",
// "no unit found after number 5", "no number found".
Result<KeepDuration> ParseKeepDuration(std::string_view text);
// "1y2m" as restic prints it (zero parts left out).
std::string FormatKeepDuration(const KeepDuration& d);

// Go's t.AddDate(years, months, days) in t's own offset: the calendar date
// moves and overflowing days roll over (Mar 31 - 1 month = Mar 3).
Timestamp AddDate(const Timestamp& t, int years, int months, int days);

// The instant `d` before `t`: AddDate for the calendar part, then hours.
Timestamp SubtractKeepDuration(const Timestamp& t, const KeepDuration& d);

// Go's t.ISOWeek() in t's own offset, as year * 100 + week.
int64_t IsoYearWeek(const Timestamp& t);

// ---- Grouping ----

struct GroupBy {
  bool host = false, paths = false, tags = false;
};
// restic's --group-by: comma list of host(s), path(s), tag(s); "" parts are
// ignored, so "" means one group. kInvalid "unknown grouping option: 'x'".
Result<GroupBy> ParseGroupBy(std::string_view text);

struct SnapshotGroup {
  // restic's group key, {"hostname":..,"paths":..,"tags":..} as Go marshals
  // it; fields not grouped by are "" or null.
  std::string key_json;
  std::string hostname;
  std::optional<std::vector<std::string>> paths, tags;
  std::vector<SnapshotEntry> snapshots;
};

// Splits snapshots into groups, ordered by key_json (restic's order is Go's
// random map order). Like restic it sorts every snapshot's paths, and its
// tags too when grouping by tags, so output shows them sorted.
std::vector<SnapshotGroup> GroupSnapshots(std::vector<SnapshotEntry> snapshots,
                                          const GroupBy& group_by);

// ---- The policy ----

struct ExpirePolicy {
  // restic 0.14 keeps by a count only when it is > 0; a negative count still
  // makes the policy non-empty, so e.g. --keep-last -1 removes everything.
  int last = 0, hourly = 0, daily = 0, weekly = 0, monthly = 0, yearly = 0;
  KeepDuration within, within_hourly, within_daily, within_weekly, within_monthly,
      within_yearly;
  std::vector<TagList> tags;  // keep snapshots having all tags of any list

  bool Empty() const;
};

// restic's description, e.g. "keep 2 daily snapshots and all snapshots with
// tags [[x]]", printed after "Applying Policy: ".
std::string DescribePolicy(const ExpirePolicy& policy);

// The bucket counters left after a kept snapshot (omitted from JSON when 0).
struct KeepCounters {
  int last = 0, hourly = 0, daily = 0, weekly = 0, monthly = 0, yearly = 0;
};

struct KeepReason {
  SnapshotEntry snapshot;
  std::vector<std::string> matches;  // "daily snapshot", "within 1d", "has tags [x]", ...
  KeepCounters counters;
};

struct PolicyResult {
  std::vector<SnapshotEntry> keep, remove;  // both newest first
  std::vector<KeepReason> reasons;          // one per kept snapshot, same order
};

// Applies the policy to one group. Snapshots are taken newest first by a
// stable sort, so ties in time stay in input order: restic's input order
// is whatever its parallel snapshot loader delivers, ours is what the
// caller gives (the command sorts by id). `now` bounds "latest" for the
// keep-within rules: snapshots in the future are not the latest.
PolicyResult ApplyPolicy(std::vector<SnapshotEntry> group, const ExpirePolicy& policy,
                         const Timestamp& now);

}  // namespace stash
