// Go-compatible time output and parsing. The expected strings come from
// restic 0.14.0 (built with Go 1.19) snapshots unless noted.
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <time.h>

#include <optional>
#include <string>

#include "base/go_time.h"

namespace stash {
namespace {

// 2001-02-03T04:05:06Z, the time the fixture files were given.
constexpr int64_t kFeb2001 = 981173106;
constexpr int32_t kStJohns = -(3 * 3600 + 30 * 60);  // -03:30 (NST)

// Sets TZ for the lifetime of the object, as Go's time.Local reads it.
class ScopedTz {
 public:
  explicit ScopedTz(const char* tz) {
    if (const char* old = getenv("TZ")) old_ = old;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~ScopedTz() {
    if (old_) {
      setenv("TZ", old_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

 private:
  std::optional<std::string> old_;
};

TEST_CASE("FormatRfc3339Nano trims the fraction like Go", "[go_time]") {
  CHECK(FormatRfc3339Nano({kFeb2001, 0, 0}) == "2001-02-03T04:05:06Z");
  CHECK(FormatRfc3339Nano({kFeb2001, 1, 0}) ==
        "2001-02-03T04:05:06.000000001Z");
  CHECK(FormatRfc3339Nano({kFeb2001, 120000000, 0}) ==
        "2001-02-03T04:05:06.12Z");
  CHECK(FormatRfc3339Nano({kFeb2001, 999999999, 0}) ==
        "2001-02-03T04:05:06.999999999Z");
  CHECK(FormatRfc3339Nano({0, 0, 0}) == "1970-01-01T00:00:00Z");
}

TEST_CASE("FormatRfc3339Nano prints the offset", "[go_time]") {
  // From restic 0.14 trees written with TZ=America/St_Johns / Asia/Kolkata.
  CHECK(FormatRfc3339Nano({kFeb2001, 120000000, kStJohns}) ==
        "2001-02-03T00:35:06.12-03:30");
  CHECK(FormatRfc3339Nano({kFeb2001, 0, kStJohns}) ==
        "2001-02-03T00:35:06-03:30");
  CHECK(FormatRfc3339Nano({-315619200, 500, kStJohns}) ==
        "1959-12-31T20:30:00.0000005-03:30");
  CHECK(FormatRfc3339Nano({1795612355, 651298534, 19800}) ==
        "2026-11-25T18:42:35.651298534+05:30");
  CHECK(FormatRfc3339Nano({kFeb2001, 0, -5 * 3600}) ==
        "2001-02-02T23:05:06-05:00");
  // Go prints whole minutes, truncated toward zero; only 0 is "Z".
  CHECK(FormatRfc3339Nano({kFeb2001, 0, -30}) == "2001-02-03T04:04:36+00:00");
  CHECK(FormatRfc3339Nano({kFeb2001, 0, 3601}) == "2001-02-03T05:05:07+01:00");
}

TEST_CASE("FormatRfc3339Nano clamps years like restic's FixTime",
          "[go_time]") {
  // 10000-03-04T05:06:07.5Z -> year 9999, same month, day and time.
  const int64_t y10000 = 253402300800 + (31 + 29 + 3) * 86400 + 5 * 3600 +
                         6 * 60 + 7;
  CHECK(FormatRfc3339Nano({y10000, 500000000, 0}) ==
        "9999-03-04T05:06:07.5Z");
  // Feb 29 of a leap year lands on Mar 1, as Go's AddDate normalizes.
  const int64_t feb29_10000 = 253402300800 + (31 + 28) * 86400;
  CHECK(FormatRfc3339Nano({feb29_10000, 0, 0}) == "9999-03-01T00:00:00Z");
  // -0001-06-15T12:00:00Z -> 0000-06-15.
  const int64_t year_minus_1 = -62167219200 - 365 * 86400 +
                               (31 + 28 + 31 + 30 + 31 + 14) * 86400 +
                               12 * 3600;
  CHECK(FormatRfc3339Nano({year_minus_1, 0, 0}) == "0000-06-15T12:00:00Z");
  // The clamp applies to the year in the time's own zone.
  CHECK(FormatRfc3339Nano({253402300800 - 3600, 0, 7200}) ==
        "9999-01-01T01:00:00+02:00");
  CHECK(FormatRfc3339Nano({-62167219200, 0, 0}) == "0000-01-01T00:00:00Z");
}

TEST_CASE("FormatRfc3339Nano normalizes nanos beyond a second", "[go_time]") {
  CHECK(FormatRfc3339Nano({kFeb2001, 1500000000, 0}) ==
        "2001-02-03T04:05:07.5Z");
}

TEST_CASE("ParseRfc3339 keeps the offset and the nanos", "[go_time]") {
  auto t = ParseRfc3339("2001-02-03T00:35:06.12-03:30");
  REQUIRE(t);
  CHECK(t->seconds == kFeb2001);
  CHECK(t->nanos == 120000000);
  CHECK(t->utc_offset == kStJohns);

  t = ParseRfc3339("1959-12-31T20:30:00.0000005-03:30");
  REQUIRE(t);
  CHECK(t->seconds == -315619200);
  CHECK(t->nanos == 500);

  t = ParseRfc3339("2001-02-03T04:05:06Z");
  REQUIRE(t);
  CHECK(*t == Timestamp{kFeb2001, 0, 0});
  CHECK(t->utc_offset == 0);

  // "+00:00" is offset 0, which Go (and we) print as "Z".
  t = ParseRfc3339("2001-02-03T04:05:06+00:00");
  REQUIRE(t);
  CHECK(FormatRfc3339Nano(*t) == "2001-02-03T04:05:06Z");
}

TEST_CASE("ParseRfc3339 fraction rules follow Go", "[go_time]") {
  auto t = ParseRfc3339("2001-02-03T04:05:06.1234567891234Z");
  REQUIRE(t);
  CHECK(t->nanos == 123456789);  // digits past nine are dropped
  t = ParseRfc3339("2001-02-03T04:05:06,5Z");  // Go accepts a comma too
  REQUIRE(t);
  CHECK(t->nanos == 500000000);
  t = ParseRfc3339("2001-02-03T04:05:06.000Z");
  REQUIRE(t);
  CHECK(t->nanos == 0);
}

TEST_CASE("ParseRfc3339 round-trips what it formats", "[go_time]") {
  const Timestamp cases[] = {
      {kFeb2001, 0, 0},          {kFeb2001, 1, kStJohns},
      {-315619200, 500, 19800},  {253402300799, 999999999, 0},
      {-62135596800, 0, 0},      {951782400, 0, -36000},  // 2000-02-29
  };
  for (const Timestamp& t : cases) {
    auto parsed = ParseRfc3339(FormatRfc3339Nano(t));
    REQUIRE(parsed);
    CHECK(*parsed == t);
    CHECK(parsed->utc_offset == t.utc_offset);
  }
}

TEST_CASE("ParseRfc3339 rejects malformed times", "[go_time]") {
  const char* bad[] = {
      "",
      "2001-02-03",
      "2001-02-03T04:05:06",        // no zone
      "2001-02-03 04:05:06Z",       // space instead of T
      "2001-02-03T04:05:06.Z",      // empty fraction
      "2001-13-03T04:05:06Z",       // month
      "2001-00-03T04:05:06Z",
      "2001-02-29T04:05:06Z",       // not a leap year
      "2001-04-31T04:05:06Z",
      "2001-02-03T24:00:00Z",
      "2001-02-03T04:60:06Z",
      "2001-02-03T04:05:60Z",
      "2001-02-03T04:05:06+0530",   // needs the colon
      "2001-02-03T04:05:06+05:60",
      "2001-02-03T04:05:06+24:00",
      "2001-02-03T04:05:06Zjunk",
      "12001-02-03T04:05:06Z",
      "2001-2-03T04:05:06Z",
      "x001-02-03T04:05:06Z",
  };
  for (const char* text : bad) {
    INFO(text);
    CHECK_FALSE(ParseRfc3339(text));
  }
  CHECK(ParseRfc3339("2000-02-29T00:00:00Z"));  // leap year
}

TEST_CASE("FormatTableTime uses the stored offset", "[go_time]") {
  CHECK(FormatTableTime({kFeb2001, 999999999, 0}) == "2001-02-03 04:05:06");
  CHECK(FormatTableTime({kFeb2001, 0, kStJohns}) == "2001-02-03 00:35:06");
  CHECK(FormatTableTime({-315619200, 0, 0}) == "1960-01-01 00:00:00");
}

TEST_CASE("Timestamp::Local takes the zone's offset at that time",
          "[go_time]") {
  ScopedTz tz("America/St_Johns");
  CHECK(Timestamp::Local(kFeb2001, 7).utc_offset == kStJohns);
  CHECK(Timestamp::Local(kFeb2001, 7).nanos == 7);
  // July: Newfoundland daylight time, -02:30.
  CHECK(Timestamp::Local(kFeb2001 + 150 * 86400, 0).utc_offset == -9000);
  const Timestamp now = Timestamp::Now();
  CHECK((now.utc_offset == kStJohns || now.utc_offset == -9000));
  CHECK(now.seconds > kFeb2001);
  CHECK(now.nanos < 1000000000);
}

TEST_CASE("FormatGoTimeString prints what Go's Time.String() prints of a decoded time", "[go_time]") {
  // restic 0.18.1: "restoring snapshot 190e31b0 of [/tmp/cmpsrc] at
  // 2026-12-05 19:15:54.650996055 +0000 UTC by root@vm to /tmp/o2".
  CHECK(FormatGoTimeString(*ParseRfc3339("2026-12-05T19:15:54.650996055Z")) ==
        "2026-12-05 19:15:54.650996055 +0000 UTC");
  CHECK(FormatGoTimeString({kFeb2001, 500000000, 0}) == "2001-02-03 04:05:06.5 +0000 UTC");
  {
    ScopedTz tz("America/St_Johns");  // the local zone had -03:30 then: its name
    CHECK(FormatGoTimeString({kFeb2001, 0, kStJohns}) == "2001-02-03 00:35:06 -0330 NST");
    // An offset the local zone did not have at that time: Go's fixed zone has no name.
    CHECK(FormatGoTimeString({kFeb2001, 0, 7200}) == "2001-02-03 06:05:06 +0200 +0200");
  }
  ScopedTz tz("UTC");
  CHECK(FormatGoTimeString({kFeb2001, 0, -5 * 3600}) == "2001-02-02 23:05:06 -0500 -0500");
}

TEST_CASE("Timestamp::Local with UTC prints Z", "[go_time]") {
  ScopedTz tz("UTC");
  CHECK(FormatRfc3339Nano(Timestamp::Local(kFeb2001, 0)) ==
        "2001-02-03T04:05:06Z");
}

TEST_CASE("Timestamp compares the instant, not the offset", "[go_time]") {
  CHECK(Timestamp{10, 0, 0} == Timestamp{10, 0, 3600});
  CHECK(Timestamp{10, 1, 0} > Timestamp{10, 0, 0});
  CHECK(Timestamp{9, 999, 0} < Timestamp{10, 0, 0});
}

// Names and their quoted form as restic 0.14 stored them.

}  // namespace
}  // namespace stash
