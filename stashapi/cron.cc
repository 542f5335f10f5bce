#include "stashapi/cron.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include "stashapi/go_duration.h"

namespace stash {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using Seconds = std::chrono::sys_seconds;

// Set in a field given as "*" or "?": tells the day rule which days count.
constexpr uint64_t kStarBit = uint64_t{1} << 63;

struct Bounds {
  const char* name;  // for messages
  unsigned min, max;
  const char* const* names;  // lower-case names from `min` on, or nullptr
};

constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec", nullptr};
constexpr const char* kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", nullptr};

constexpr Bounds kSecond{"second", 0, 59, nullptr};
constexpr Bounds kMinute{"minute", 0, 59, nullptr};
constexpr Bounds kHour{"hour", 0, 23, nullptr};
constexpr Bounds kDayOfMonth{"day of month", 1, 31, nullptr};
constexpr Bounds kMonth{"month", 1, 12, kMonthNames};
constexpr Bounds kDayOfWeek{"day of week", 0, 6, kDayNames};

uint64_t Bits(unsigned low, unsigned high, unsigned step) {
  uint64_t bits = 0;
  for (unsigned i = low; i <= high; i += step) bits |= uint64_t{1} << i;
  return bits;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

Result<unsigned> Number(std::string_view text, const Bounds& b) {
  if (b.names) {
    std::string lower;
    for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (unsigned i = 0; b.names[i]; ++i) {
      if (lower == b.names[i]) return b.min + i;
    }
  }
  if (text.empty() || text.size() > 9 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Invalid(std::string(1, '"').append(text).append("\" is not a number"));
  }
  return static_cast<unsigned>(std::stoul(std::string(text)));
}

// One "N", "N-M", "*" or "?", with an optional "/step".
Result<uint64_t> Range(std::string_view expr, const Bounds& b) {
  auto range_and_step = Split(expr, '/');
  if (range_and_step.size() > 2) return Invalid("too many slashes in \"" + std::string(expr) + "\"");
  auto low_high = Split(range_and_step[0], '-');
  if (low_high.size() > 2) return Invalid("too many hyphens in \"" + std::string(expr) + "\"");
  unsigned low = b.min, high = b.max, step = 1;
  uint64_t star = 0;
  if (low_high[0] == "*" || low_high[0] == "?") {
    if (low_high.size() > 1) return Invalid("a range cannot start with \"*\"");
    star = kStarBit;
  } else {
    STASH_ASSIGN_OR_RETURN(low, Number(low_high[0], b));
    high = low;
    if (low_high.size() == 2) {
      STASH_ASSIGN_OR_RETURN(high, Number(low_high[1], b));
    }
  }
  if (range_and_step.size() == 2) {
    STASH_ASSIGN_OR_RETURN(step, Number(range_and_step[1], Bounds{b.name, 0, 0, nullptr}));
    if (step == 0) return Invalid("step 0 in \"" + std::string(expr) + "\"");
    if (low_high.size() == 1 && star == 0) high = b.max;  // "N/step" means N to the maximum
  }
  if (low < b.min) return Invalid(std::to_string(low) + " is below the minimum " + std::to_string(b.min));
  if (high > b.max) return Invalid(std::to_string(high) + " is above the maximum " + std::to_string(b.max));
  if (low > high) return Invalid("range " + std::to_string(low) + "-" + std::to_string(high) + " runs backwards");
  return Bits(low, high, step) | star;
}

Result<uint64_t> Field(std::string_view field, const Bounds& b) {
  uint64_t bits = 0;
  bool any = false;
  for (std::string_view part : Split(field, ',')) {
    if (part.empty()) continue;  // "1,,2" reads as "1,2", as robfig's parser does
    auto r = Range(part, b);
    if (!r.ok()) return r.error().Wrap(std::string(b.name) + " field \"" + std::string(field) + "\"");
    bits |= *r;
    any = true;
  }
  if (!any) return Invalid(std::string(b.name) + " field \"" + std::string(field) + "\" is empty");
  return bits;
}

std::vector<std::string_view> Fields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// A moment split into calendar fields (UTC).
struct Civil {
  std::chrono::year_month_day date;
  hours hour;
  minutes minute;
  seconds second;
  explicit Civil(Seconds t) {
    auto day = std::chrono::floor<days>(t);
    date = std::chrono::year_month_day(day);
    std::chrono::hh_mm_ss<seconds> hms(t - day);
    hour = hms.hours(), minute = hms.minutes(), second = hms.seconds();
  }
  unsigned Month() const { return static_cast<unsigned>(date.month()); }
  unsigned Day() const { return static_cast<unsigned>(date.day()); }
  unsigned Weekday() const { return std::chrono::weekday(std::chrono::sys_days(date)).c_encoding(); }
};

bool Has(uint64_t bits, long long i) { return (bits >> i) & 1; }

}  // namespace

Result<CronSchedule> CronSchedule::Parse(std::string_view spec) {
  auto fail = [&](const Error& e) { return e.Wrap("schedule \"" + std::string(spec) + "\""); };
  CronSchedule s;
  if (Fields(spec).empty()) return fail(Invalid("empty"));
  if (spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=")) return fail(Invalid("time zones are not supported"));
  if (spec.starts_with("@every ")) {
    auto d = ParseGoDuration(spec.substr(7));
    if (!d.ok()) return fail(d.error());
    // Whole seconds, at least one, as robfig's Every() rounds.
    s.every_ = std::max(seconds(1), std::chrono::duration_cast<seconds>(std::chrono::nanoseconds(*d)));
    return s;
  }
  if (spec.starts_with("@")) {
    uint64_t all_dom = Bits(1, 31, 1) | kStarBit, all_month = Bits(1, 12, 1) | kStarBit;
    uint64_t all_dow = Bits(0, 6, 1) | kStarBit;
    s.second_ = 1, s.minute_ = 1, s.hour_ = 1, s.dom_ = 1 << 1, s.month_ = 1 << 1, s.dow_ = 1;
    if (spec == "@yearly" || spec == "@annually") s.dow_ = all_dow;
    else if (spec == "@monthly") s.month_ = all_month, s.dow_ = all_dow;
    else if (spec == "@weekly") s.dom_ = all_dom, s.month_ = all_month;
    else if (spec == "@daily" || spec == "@midnight") s.dom_ = all_dom, s.month_ = all_month, s.dow_ = all_dow;
    else if (spec == "@hourly") s.hour_ = Bits(0, 23, 1) | kStarBit, s.dom_ = all_dom, s.month_ = all_month, s.dow_ = all_dow;
    else return fail(Invalid("unknown descriptor"));
    return s;
  }
  auto fields = Fields(spec);
  if (fields.size() != 5 && fields.size() != 6) {
    return fail(Invalid("expected 5 or 6 fields, found " + std::to_string(fields.size())));
  }
  if (fields.size() == 5) fields.insert(fields.begin(), "0");
  const Bounds* bounds[] = {&kSecond, &kMinute, &kHour, &kDayOfMonth, &kMonth, &kDayOfWeek};
  uint64_t* out[] = {&s.second_, &s.minute_, &s.hour_, &s.dom_, &s.month_, &s.dow_};
  for (size_t i = 0; i < 6; ++i) {
    auto bits = Field(fields[i], *bounds[i]);
    if (!bits.ok()) return fail(bits.error());
    *out[i] = *bits;
  }
  return s;
}

bool CronSchedule::DayMatches(int day_of_month, int day_of_week) const {
  bool dom = Has(dom_, day_of_month), dow = Has(dow_, day_of_week);
  if ((dom_ & kStarBit) || (dow_ & kStarBit)) return dom && dow;
  return dom || dow;
}

// robfig's SpecSchedule.Next: move to the next matching month, then day,
// hour, minute and second, truncating the smaller fields the first time one
// moves; a field that wraps around starts over from the month.
std::optional<Clock::time_point> CronSchedule::Next(Clock::time_point from) const {
  Seconds t = std::chrono::floor<seconds>(from) + seconds(1);
  if (every_.count() > 0) return Clock::time_point(std::chrono::floor<seconds>(from) + every_);
  const int year_limit = static_cast<int>(Civil(t).date.year()) + 5;
  bool added = false;
  auto truncate = [&](auto unit) {
    if (!added) t = std::chrono::floor<decltype(unit)>(t);
    added = true;
  };
wrap:
  if (static_cast<int>(Civil(t).date.year()) > year_limit) return std::nullopt;
  while (!Has(month_, Civil(t).Month())) {
    auto ymd = Civil(t).date;
    if (!added) t = Seconds(std::chrono::sys_days(ymd.year() / ymd.month() / 1));
    added = true;
    ymd = Civil(t).date;
    t = Seconds(std::chrono::sys_days((ymd.year() / ymd.month() / 1) + std::chrono::months(1)));
    if (Civil(t).Month() == 1) goto wrap;
  }
  while (!DayMatches(Civil(t).Day(), Civil(t).Weekday())) {
    truncate(days(1));
    t += days(1);
    if (Civil(t).Day() == 1) goto wrap;
  }
  while (!Has(hour_, Civil(t).hour.count())) {
    truncate(hours(1));
    t += hours(1);
    if (Civil(t).hour.count() == 0) goto wrap;
  }
  while (!Has(minute_, Civil(t).minute.count())) {
    truncate(minutes(1));
    t += minutes(1);
    if (Civil(t).minute.count() == 0) goto wrap;
  }
  while (!Has(second_, Civil(t).second.count())) {
    added = true;
    t += seconds(1);
    if (Civil(t).second.count() == 0) goto wrap;
  }
  return Clock::time_point(t);
}

}  // namespace stash
