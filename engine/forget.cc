#include "engine/forget.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "base/go_json.h"
#include "base/string_util.h"

namespace stash {
namespace {

// ---- Civil calendar (proleptic Gregorian, any year), as Go's time does ----

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

struct Civil {
  int64_t year;
  int64_t month, day;
};

Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return {yoe + era * 400 + (m <= 2), m, doy - (153 * mp + 2) / 5 + 1};
}

// Days since 1970-01-01 and the second of that day, on t's wall clock.
struct Wall {
  int64_t days, second_of_day;
};

Wall WallClock(const Timestamp& t) {
  const int64_t local = t.seconds + t.utc_offset;
  const int64_t days = FloorDiv(local, 86400);
  return {days, local - days * 86400};
}

// ---- Bucket keys: restic's ymdh, ymd, yw, ym, y and always ----

using Bucker = int64_t (*)(const Timestamp& t, int64_t nr);

int64_t Always(const Timestamp&, int64_t nr) { return nr; }
int64_t Year(const Timestamp& t, int64_t) { return CivilFromDays(WallClock(t).days).year; }
int64_t YearMonth(const Timestamp& t, int64_t) {
  Civil c = CivilFromDays(WallClock(t).days);
  return c.year * 100 + c.month;
}
int64_t YearMonthDay(const Timestamp& t, int64_t) {
  Civil c = CivilFromDays(WallClock(t).days);
  return c.year * 10000 + c.month * 100 + c.day;
}
int64_t YearMonthDayHour(const Timestamp& t, int64_t) {
  Wall w = WallClock(t);
  Civil c = CivilFromDays(w.days);
  return c.year * 1000000 + c.month * 10000 + c.day * 100 + w.second_of_day / 3600;
}
int64_t YearWeek(const Timestamp& t, int64_t) { return IsoYearWeek(t); }

// A keep-N rule: keeps the first snapshot of each new bucket while n > 0.
struct CountBucket {
  int count;
  Bucker bucker;
  const char* reason;
  int64_t last = -1;
};

// A keep-within-X rule: keeps the first snapshot of each bucket after `since`.
struct WithinBucket {
  KeepDuration within;
  Bucker bucker;
  const char* reason;
  int64_t last = -1;
};

std::string Trim(std::string_view s) {
  const char* ws = " \t\n\r\v\f";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(ws) - b + 1));
}

// Go's %q of a byte (formatted as the rune of that value), for error text.
std::string QuoteByteAsRune(unsigned char b) {
  char buf[16];
  if (b == '\'' || b == '\\') return std::string("'\\") + char(b) + "'";
  if (b >= 0x20 && b < 0x7f) return std::string("'") + char(b) + "'";
  if (b < 0x20 || b == 0x7f) std::snprintf(buf, sizeof buf, "'\\x%02x'", b);
  else if (b < 0xa1 || b == 0xad) std::snprintf(buf, sizeof buf, "'\\u%04x'", b);
  else std::snprintf(buf, sizeof buf, "'%c%c'", char(0xc0 | (b >> 6)), char(0x80 | (b & 0x3f)));
  return buf;
}

// restic's nextNumber: an optional '-' and decimal digits.
Result<int> NextNumber(std::string_view& s) {
  bool negative = !s.empty() && s[0] == '-';
  if (negative) s.remove_prefix(1);
  size_t n = 0;
  while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
  if (n == 0) return Invalid("no number found");
  int64_t value = 0;
  for (size_t i = 0; i < n; ++i) {
    value = value * 10 + (s[i] - '0');
    if (value > INT32_MAX) return Invalid("number " + std::string(s.substr(0, n)) + " is too large");
  }
  s.remove_prefix(n);
  return static_cast<int>(negative ? -value : value);
}

std::string JsonStringArray(const std::vector<std::string>& list) {
  std::string out = "[";
  for (size_t i = 0; i < list.size(); ++i) {
    if (i) out += ",";
    AppendGoJsonString(out, list[i]);
  }
  return out + "]";
}

// Go's zero time.Time (0001-01-01 UTC), where restic's search for the
// latest snapshot starts.
Timestamp GoZeroTime() {
  Timestamp t;
  t.seconds = -62135596800;
  return t;
}

// The newest snapshot time that is not in the future (restic's
// findLatestTimestamp); among equal times the first in list order.
Timestamp FindLatest(const std::vector<SnapshotEntry>& list, const Timestamp& now) {
  Timestamp latest = GoZeroTime();
  for (const auto& [id, s] : list) {
    if (s.time > latest && s.time < now) latest = s.time;
  }
  return latest;
}

// The rules that do not count: --keep-tag and --keep-within.
void MatchUncounted(const Snapshot& s, const ExpirePolicy& p, const Timestamp& latest,
                    std::vector<std::string>& matches) {
  for (const auto& list : p.tags) {
    if (HasTags(s, list)) matches.push_back("has tags " + TagListString(list));
  }
  if (!p.within.Zero() && s.time > SubtractKeepDuration(latest, p.within)) {
    matches.push_back("within " + FormatKeepDuration(p.within));
  }
}

void MatchCounted(CountBucket (&buckets)[6], const Timestamp& t, int64_t nr,
                  std::vector<std::string>& matches) {
  for (auto& b : buckets) {
    if (b.count <= 0) continue;
    int64_t value = b.bucker(t, nr);
    if (value == b.last) continue;
    b.last = value;
    b.count--;
    matches.push_back(b.reason);
  }
}

void MatchWithin(WithinBucket (&buckets)[5], const Timestamp& t, int64_t nr,
                 const Timestamp& latest, std::vector<std::string>& matches) {
  for (auto& b : buckets) {
    if (b.within.Zero() || !(t > SubtractKeepDuration(latest, b.within))) continue;
    int64_t value = b.bucker(t, nr);
    if (value == b.last) continue;
    b.last = value;
    matches.push_back(std::string(b.reason) + " " + FormatKeepDuration(b.within));
  }
}

}  // namespace

Result<KeepDuration> ParseKeepDuration(std::string_view text) {
  std::string trimmed = Trim(text);
  std::string_view s = trimmed;
  KeepDuration d;
  while (!s.empty()) {
    STASH_ASSIGN_OR_RETURN(int num, NextNumber(s));
    if (s.empty()) return Invalid("no unit found after number " + std::to_string(num));
    switch (s[0]) {
      case 'y': d.years = num; break;
      case 'm': d.months = num; break;
      case 'd': d.days = num; break;
      case 'h': d.hours = num; break;
      default:
        return Invalid("invalid unit " + QuoteByteAsRune(static_cast<unsigned char>(s[0])) +
                       " found after number " + std::to_string(num));
    }
    s.remove_prefix(1);
  }
  return d;
}

std::string FormatKeepDuration(const KeepDuration& d) {
  std::string s;
  if (d.years != 0) s += std::to_string(d.years) + "y";
  if (d.months != 0) s += std::to_string(d.months) + "m";
  if (d.days != 0) s += std::to_string(d.days) + "d";
  if (d.hours != 0) s += std::to_string(d.hours) + "h";
  return s;
}

Timestamp AddDate(const Timestamp& t, int years, int months, int days) {
  Wall w = WallClock(t);
  Civil c = CivilFromDays(w.days);
  // Go's time.Date: months overflow into years first, then days roll over.
  int64_t month0 = c.month - 1 + months;
  int64_t year = c.year + years + FloorDiv(month0, 12);
  month0 -= FloorDiv(month0, 12) * 12;
  int64_t day_number = DaysFromCivil(year, month0 + 1, 1) + (c.day - 1) + days;
  Timestamp out = t;
  out.seconds = day_number * 86400 + w.second_of_day - t.utc_offset;
  return out;
}

Timestamp SubtractKeepDuration(const Timestamp& t, const KeepDuration& d) {
  Timestamp out = AddDate(t, -d.years, -d.months, -d.days);
  out.seconds -= int64_t{d.hours} * 3600;
  return out;
}

int64_t IsoYearWeek(const Timestamp& t) {
  int64_t days = WallClock(t).days;
  // Monday = 0; 1970-01-01 was a Thursday. The week's Thursday decides its ISO year.
  int64_t weekday = (days + 3) - FloorDiv(days + 3, 7) * 7;
  int64_t thursday = days - weekday + 3;
  int64_t year = CivilFromDays(thursday).year;
  return year * 100 + (thursday - DaysFromCivil(year, 1, 1)) / 7 + 1;
}

Result<GroupBy> ParseGroupBy(std::string_view text) {
  GroupBy g;
  size_t pos = 0;
  while (true) {
    size_t comma = text.find(',', pos);
    std::string option(text.substr(pos, comma == std::string_view::npos ? comma : comma - pos));
    if (option == "host" || option == "hosts") g.host = true;
    else if (option == "path" || option == "paths") g.paths = true;
    else if (option == "tag" || option == "tags") g.tags = true;
    else if (!option.empty()) return Invalid("unknown grouping option: '" + option + "'");
    if (comma == std::string_view::npos) return g;
    pos = comma + 1;
  }
}

std::vector<SnapshotGroup> GroupSnapshots(std::vector<SnapshotEntry> snapshots,
                                          const GroupBy& group_by) {
  std::map<std::string, SnapshotGroup> groups;
  for (auto& entry : snapshots) {
    Snapshot& s = entry.second;
    if (group_by.tags) std::sort(s.tags.begin(), s.tags.end());
    std::sort(s.paths.begin(), s.paths.end());
    SnapshotGroup key;
    if (group_by.host) key.hostname = s.hostname;
    if (group_by.paths && !s.paths.empty()) key.paths = s.paths;
    if (group_by.tags && !s.tags.empty()) key.tags = s.tags;
    key.key_json = "{\"hostname\":";
    AppendGoJsonString(key.key_json, key.hostname);
    key.key_json += ",\"paths\":" + (key.paths ? JsonStringArray(*key.paths) : "null");
    key.key_json += ",\"tags\":" + (key.tags ? JsonStringArray(*key.tags) : "null") + "}";
    auto [it, fresh] = groups.try_emplace(key.key_json, std::move(key));
    it->second.snapshots.push_back(std::move(entry));
  }
  std::vector<SnapshotGroup> out;
  for (auto& [k, g] : groups) out.push_back(std::move(g));
  return out;
}

bool ExpirePolicy::Empty() const {
  return last == 0 && hourly == 0 && daily == 0 && weekly == 0 && monthly == 0 && yearly == 0 &&
         within.Zero() && within_hourly.Zero() && within_daily.Zero() && within_weekly.Zero() &&
         within_monthly.Zero() && within_yearly.Zero() && tags.empty();
}

std::string DescribePolicy(const ExpirePolicy& p) {
  std::vector<std::string> keeps, keepw;
  auto count = [&](int n, const char* what) {
    if (n > 0) keeps.push_back(std::to_string(n) + " " + what);
  };
  count(p.last, "latest"), count(p.hourly, "hourly"), count(p.daily, "daily");
  count(p.weekly, "weekly"), count(p.monthly, "monthly"), count(p.yearly, "yearly");
  auto within = [&](const KeepDuration& d, const char* what) {
    if (!d.Zero()) keepw.push_back(std::string(what) + " snapshots within " + FormatKeepDuration(d));
  };
  within(p.within_hourly, "hourly"), within(p.within_daily, "daily");
  within(p.within_weekly, "weekly"), within(p.within_monthly, "monthly");
  within(p.within_yearly, "yearly");
  std::string s;
  if (!keeps.empty()) s = JoinStrings(keeps, ", ") + " snapshots";
  if (!keepw.empty()) s += (s.empty() ? "" : ", ") + JoinStrings(keepw, ", ");
  if (!p.tags.empty()) {
    std::vector<std::string> lists;
    for (const auto& l : p.tags) lists.push_back(TagListString(l));
    s += (s.empty() ? "" : " and ") + std::string("all snapshots with tags [") +
         JoinStrings(lists, " ") + "]";
  }
  if (!p.within.Zero()) {
    s += (s.empty() ? "" : " and ") + std::string("all snapshots within ") +
         FormatKeepDuration(p.within) + " of the newest";
  }
  return "keep " + s;
}

PolicyResult ApplyPolicy(std::vector<SnapshotEntry> list, const ExpirePolicy& p,
                         const Timestamp& now) {
  std::stable_sort(list.begin(), list.end(),
                   [](const auto& a, const auto& b) { return a.second.time > b.second.time; });
  PolicyResult r;
  if (p.Empty()) {
    for (const auto& e : list) r.reasons.push_back({e, {"policy is empty"}, {}});
    r.keep = std::move(list);
    return r;
  }
  CountBucket buckets[6] = {{p.last, Always, "last snapshot"},
                            {p.hourly, YearMonthDayHour, "hourly snapshot"},
                            {p.daily, YearMonthDay, "daily snapshot"},
                            {p.weekly, YearWeek, "weekly snapshot"},
                            {p.monthly, YearMonth, "monthly snapshot"},
                            {p.yearly, Year, "yearly snapshot"}};
  WithinBucket within[5] = {{p.within_hourly, YearMonthDayHour, "hourly within"},
                            {p.within_daily, YearMonthDay, "daily within"},
                            {p.within_weekly, YearWeek, "weekly within"},
                            {p.within_monthly, YearMonth, "monthly within"},
                            {p.within_yearly, Year, "yearly within"}};
  const Timestamp latest = FindLatest(list, now);
  for (size_t nr = 0; nr < list.size(); ++nr) {
    const Timestamp& t = list[nr].second.time;
    std::vector<std::string> matches;
    MatchUncounted(list[nr].second, p, latest, matches);
    MatchCounted(buckets, t, static_cast<int64_t>(nr), matches);
    MatchWithin(within, t, static_cast<int64_t>(nr), latest, matches);
    if (matches.empty()) {
      r.remove.push_back(std::move(list[nr]));
      continue;
    }
    KeepCounters c{buckets[0].count, buckets[1].count, buckets[2].count,
                   buckets[3].count, buckets[4].count, buckets[5].count};
    r.reasons.push_back({list[nr], std::move(matches), c});
    r.keep.push_back(std::move(list[nr]));
  }
  return r;
}

}  // namespace stash
