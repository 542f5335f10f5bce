// The sidecar's schedule: robfig/cron v2 as Stash 0.8.3 parsed it, and Go
// durations both ways.
#include <catch2/catch.hpp>

#include "stashapi/cron.h"
#include "stashapi/go_duration.h"
#include "kube/events.h"

using namespace stash;

namespace {

Clock::time_point At(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0, int ms = 0) {
  using namespace std::chrono;
  return sys_days(year(y) / month(mo) / day(d)) + hours(h) + minutes(mi) + seconds(s) + milliseconds(ms);
}

std::string NextOf(const std::string& spec, Clock::time_point from) {
  auto s = CronSchedule::Parse(spec);
  REQUIRE(s.ok());
  auto next = s->Next(from);
  return next ? kube::Rfc3339(*next) : "never";
}

std::string ParseError(const std::string& spec) {
  auto s = CronSchedule::Parse(spec);
  REQUIRE_FALSE(s.ok());
  return s.error().message();
}

}  // namespace

TEST_CASE("cron: @every counts whole seconds from the time asked") {
  CHECK(NextOf("@every 5s", At(2024, 1, 1, 12, 0, 0, 500)) == "2024-01-01T12:00:05Z");
  CHECK(NextOf("@every 1m30s", At(2024, 1, 1, 12, 0, 10)) == "2024-01-01T12:01:40Z");
  CHECK(NextOf("@every 500ms", At(2024, 1, 1, 12, 0, 0)) == "2024-01-01T12:00:01Z");  // at least a second
  CHECK(NextOf("@every 1.7s", At(2024, 1, 1, 12, 0, 0)) == "2024-01-01T12:00:01Z");   // rounded down
  CHECK(CronSchedule::Parse("@every 1h")->every() == std::chrono::hours(1));
}

TEST_CASE("cron: five fields start at second 0, six fields name the second") {
  CHECK(NextOf("*/15 * * * *", At(2024, 1, 1, 10, 7, 30)) == "2024-01-01T10:15:00Z");
  CHECK(NextOf("30 * * * * *", At(2024, 1, 1, 10, 7, 30)) == "2024-01-01T10:08:30Z");
  CHECK(NextOf("*/10 * * * * *", At(2024, 1, 1, 10, 7, 31)) == "2024-01-01T10:07:40Z");
  CHECK(NextOf("0 0 */3 * *", At(2024, 1, 2)) == "2024-01-04T00:00:00Z");  // the check job's schedule
  CHECK(NextOf("5 4 * * *", At(2024, 12, 31, 23, 0)) == "2025-01-01T04:05:00Z");
  CHECK(NextOf("0 0 1 1 *", At(2024, 6, 1)) == "2025-01-01T00:00:00Z");
  CHECK(NextOf("0 0 29 2 *", At(2023, 3, 1)) == "2024-02-29T00:00:00Z");
  CHECK(NextOf("0 0 30 2 *", At(2024, 1, 1)) == "never");
  CHECK(NextOf("* * * * *", At(2024, 1, 1, 10, 0, 0)) == "2024-01-01T10:01:00Z");  // strictly after
}

TEST_CASE("cron: names, ranges, lists and steps") {
  // 2024-03-29 is a Friday; April is outside JAN-MAR, and 2025-01-01 a Wednesday.
  CHECK(NextOf("0 12 * JAN-MAR mon-fri", At(2024, 3, 29, 13)) == "2025-01-01T12:00:00Z");
  CHECK(NextOf("0 12 * JAN-MAR mon-fri", At(2024, 3, 29, 11)) == "2024-03-29T12:00:00Z");
  CHECK(NextOf("0 8,20 * * *", At(2024, 1, 1, 9)) == "2024-01-01T20:00:00Z");
  CHECK(NextOf("10-20/5 * * * *", At(2024, 1, 1, 9, 16)) == "2024-01-01T09:20:00Z");
  CHECK(NextOf("50/5 * * * *", At(2024, 1, 1, 9, 56)) == "2024-01-01T10:50:00Z");
  CHECK(NextOf("0 0 ? * SUN", At(2024, 1, 3)) == "2024-01-07T00:00:00Z");
}

TEST_CASE("cron: day of month or day of week when both are restricted, both when one is *") {
  // 2024-01-01 is a Monday; the 13th is a Saturday.
  CHECK(NextOf("0 0 13 * fri", At(2024, 1, 1)) == "2024-01-05T00:00:00Z");
  CHECK(NextOf("0 0 13 * fri", At(2024, 1, 12, 1)) == "2024-01-13T00:00:00Z");
  CHECK(NextOf("0 0 * * mon", At(2024, 1, 1)) == "2024-01-08T00:00:00Z");
}

TEST_CASE("cron: descriptors") {
  CHECK(NextOf("@hourly", At(2024, 1, 1, 10, 7)) == "2024-01-01T11:00:00Z");
  CHECK(NextOf("@daily", At(2024, 2, 28, 23, 59, 59)) == "2024-02-29T00:00:00Z");
  CHECK(NextOf("@midnight", At(2024, 2, 28, 1)) == "2024-02-29T00:00:00Z");
  CHECK(NextOf("@weekly", At(2024, 1, 3)) == "2024-01-07T00:00:00Z");
  CHECK(NextOf("@monthly", At(2024, 1, 15)) == "2024-02-01T00:00:00Z");
  CHECK(NextOf("@yearly", At(2024, 3, 1)) == "2025-01-01T00:00:00Z");
  CHECK(NextOf("@annually", At(2024, 3, 1)) == "2025-01-01T00:00:00Z");
}

TEST_CASE("cron: errors name the schedule and the field") {
  CHECK_THAT(ParseError("61 * * * *"), Catch::Contains("schedule \"61 * * * *\"") && Catch::Contains("minute field \"61\"") &&
                                           Catch::Contains("above the maximum 59"));
  CHECK_THAT(ParseError("61 * * * * *"), Catch::Contains("second field"));
  CHECK_THAT(ParseError("* 25 * * *"), Catch::Contains("hour field \"25\""));
  CHECK_THAT(ParseError("* * 0 * *"), Catch::Contains("day of month field \"0\"") && Catch::Contains("below the minimum 1"));
  CHECK_THAT(ParseError("* * * 13 *"), Catch::Contains("month field \"13\""));
  CHECK_THAT(ParseError("* * * * 7"), Catch::Contains("day of week field \"7\""));
  CHECK_THAT(ParseError("* * * * funday"), Catch::Contains("day of week field") && Catch::Contains("not a number"));
  CHECK_THAT(ParseError("5-1 * * * *"), Catch::Contains("minute field") && Catch::Contains("backwards"));
  CHECK_THAT(ParseError("*/0 * * * *"), Catch::Contains("step 0"));
  CHECK_THAT(ParseError("1-2-3 * * * *"), Catch::Contains("too many hyphens"));
  CHECK_THAT(ParseError("1 2 3"), Catch::Contains("expected 5 or 6 fields, found 3"));
  CHECK_THAT(ParseError("1 2 3 4 5 6 7"), Catch::Contains("found 7"));
  CHECK_THAT(ParseError("@every 5x"), Catch::Contains("unknown unit \"x\""));
  CHECK_THAT(ParseError("@every"), Catch::Contains("unknown descriptor"));
  CHECK_THAT(ParseError("@fortnightly"), Catch::Contains("unknown descriptor"));
  CHECK_THAT(ParseError("   "), Catch::Contains("empty"));
  CHECK_THAT(ParseError("TZ=Europe/Paris 0 0 * * *"), Catch::Contains("time zones"));
}

TEST_CASE("Go durations parse as time.ParseDuration") {
  CHECK(*ParseGoDuration("1h30m") == 5400000000000);
  CHECK(*ParseGoDuration("1.5s") == 1500000000);
  CHECK(*ParseGoDuration("300ms") == 300000000);
  CHECK(*ParseGoDuration("2us") == 2000);
  CHECK(*ParseGoDuration("2\xC2\xB5s") == 2000);
  CHECK(*ParseGoDuration("-2m") == -120000000000);
  CHECK(*ParseGoDuration("+.5h") == 1800000000000);
  CHECK(*ParseGoDuration("0") == 0);
  CHECK(*ParseGoDuration("1m1m") == 120000000000);
  for (const char* bad : {"", "5", "1d", ".s", "s", "1 h", "-", "99999999999h"}) {
    INFO(bad);
    CHECK_FALSE(ParseGoDuration(bad).ok());
  }
  CHECK_THAT(ParseGoDuration("5").error().message(), Catch::Contains("missing unit"));
}

TEST_CASE("Go durations print as Duration.String()") {
  CHECK(FormatGoDuration(0) == "0s");
  CHECK(FormatGoDuration(999) == "999ns");
  CHECK(FormatGoDuration(1500) == "1.5\xC2\xB5s");
  CHECK(FormatGoDuration(12000000) == "12ms");
  CHECK(FormatGoDuration(1834928153) == "1.834928153s");
  CHECK(FormatGoDuration(3026137088) == "3.026137088s");
  CHECK(FormatGoDuration(90000000000) == "1m30s");
  CHECK(FormatGoDuration(3600000000000) == "1h0m0s");
  CHECK(FormatGoDuration(3723500000000) == "1h2m3.5s");
  CHECK(FormatGoDuration(-1500000000) == "-1.5s");
  for (int64_t n : {int64_t{1}, int64_t{1234567}, int64_t{61000000000}, int64_t{86400000000000}}) {
    CHECK(*ParseGoDuration(FormatGoDuration(n)) == n);
  }
}
