// forget's grouping and keep policy on synthetic histories, against rules
// read from restic 0.14's snapshot_policy.go and snapshot_group.go.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/forget.h"

using namespace stash;

namespace {

Timestamp T(const char* rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  REQUIRE(t.has_value());
  return *t;
}

// A snapshot whose id is `n` in its first byte, so tests can name it.
SnapshotEntry Snap(uint8_t n, const char* time, std::string host = "h",
                   std::vector<std::string> tags = {}, std::vector<std::string> paths = {"/p"}) {
  Id id;
  id.bytes[0] = n;
  Snapshot s;
  s.time = T(time);
  s.hostname = std::move(host);
  s.tags = std::move(tags);
  s.paths = std::move(paths);
  return {id, s};
}

std::vector<int> Ids(const std::vector<SnapshotEntry>& list) {
  std::vector<int> out;
  for (const auto& e : list) out.push_back(e.first.bytes[0]);
  return out;
}

const Timestamp kNow = *ParseRfc3339("2030-01-01T00:00:00Z");

}  // namespace

TEST_CASE("keep durations parse and print like restic's Duration") {
  auto d = ParseKeepDuration(" 1y2m3d4h ");
  REQUIRE(d.ok());
  CHECK((d->years == 1 && d->months == 2 && d->days == 3 && d->hours == 4));
  CHECK(FormatKeepDuration(*d) == "1y2m3d4h");
  CHECK(FormatKeepDuration(*ParseKeepDuration("4h1d")) == "1d4h");
  CHECK(FormatKeepDuration(*ParseKeepDuration("1d2d")) == "2d");  // later unit wins
  CHECK(ParseKeepDuration("-1d")->days == -1);
  CHECK(ParseKeepDuration("")->Zero());
  CHECK(ParseKeepDuration("0d")->Zero());
  CHECK(ParseKeepDuration("3x").error().message() == "invalid unit 'x' found after number 3");
  CHECK(ParseKeepDuration("5").error().message() == "no unit found after number 5");
  CHECK(ParseKeepDuration("d").error().message() == "no number found");
  CHECK(ParseKeepDuration("1d 2h").error().message() == "no number found");
  CHECK(!ParseKeepDuration("99999999999d").ok());
}

TEST_CASE("AddDate follows Go's calendar normalisation in the stored offset") {
  CHECK(FormatRfc3339Nano(AddDate(T("2022-03-31T12:00:00Z"), 0, -1, 0)) == "2022-03-03T12:00:00Z");
  CHECK(FormatRfc3339Nano(AddDate(T("2024-02-29T00:00:00Z"), -1, 0, 0)) == "2023-03-01T00:00:00Z");
  CHECK(FormatRfc3339Nano(AddDate(T("2022-01-01T00:30:00Z"), 0, 0, -1)) == "2021-12-31T00:30:00Z");
  CHECK(FormatRfc3339Nano(AddDate(T("2022-01-15T10:00:00Z"), 0, -13, 0)) == "2020-12-15T10:00:00Z");
  // 2022-03-31T23:00-02:00 is April 1st in UTC; the month is subtracted on
  // the -02:00 wall clock, giving March 3rd there, not March 1st.
  CHECK(FormatRfc3339Nano(AddDate(T("2022-03-31T23:00:00-02:00"), 0, -1, 0)) ==
        "2022-03-03T23:00:00-02:00");
  KeepDuration d{0, 0, 1, 2};
  CHECK(FormatRfc3339Nano(SubtractKeepDuration(T("2022-03-27T03:00:00+02:00"), d)) ==
        "2022-03-26T01:00:00+02:00");
  // Go's zero time minus a year: year 0, which RFC 3339 clamps, so compare seconds.
  Timestamp zero;
  zero.seconds = -62135596800;
  CHECK(AddDate(zero, -1, 0, 0).seconds == -62135596800 - 366 * 86400);
}

TEST_CASE("ISO weeks, including week 53 and offsets") {
  CHECK(IsoYearWeek(T("2020-12-31T12:00:00Z")) == 202053);
  CHECK(IsoYearWeek(T("2021-01-03T12:00:00Z")) == 202053);
  CHECK(IsoYearWeek(T("2021-01-04T00:00:00Z")) == 202101);
  CHECK(IsoYearWeek(T("2008-12-29T00:00:00Z")) == 200901);
  CHECK(IsoYearWeek(T("2026-12-31T00:00:00Z")) == 202653);
  CHECK(IsoYearWeek(T("2027-01-01T00:00:00Z")) == 202653);
  // Monday 00:30 UTC is still Sunday on the -08:00 wall clock.
  CHECK(IsoYearWeek(T("2021-01-03T23:30:00-08:00")) == 202053);
  CHECK(IsoYearWeek(T("2021-01-04T05:00:00+05:30")) == 202101);
}

TEST_CASE("group-by values and group keys as restic builds them") {
  CHECK(!ParseGroupBy("host,paths").value().tags);
  CHECK(ParseGroupBy("hosts,path,tag").value().tags);
  CHECK(ParseGroupBy("").ok());
  CHECK(ParseGroupBy(",host,").value().host);
  CHECK(ParseGroupBy("host,foo").error().message() == "unknown grouping option: 'foo'");
  CHECK(!ParseGroupBy(" host").ok());

  std::vector<SnapshotEntry> list = {Snap(1, "2022-01-01T00:00:00Z", "a", {"y", "x"}, {"/b", "/a"}),
                                     Snap(2, "2022-01-02T00:00:00Z", "a", {}, {"/a", "/b"}),
                                     Snap(3, "2022-01-03T00:00:00Z", "b", {"x", "y"}, {"/a"})};
  auto by_host_paths = GroupSnapshots(list, *ParseGroupBy("host,paths"));
  REQUIRE(by_host_paths.size() == 2);
  CHECK(by_host_paths[0].key_json == R"({"hostname":"a","paths":["/a","/b"],"tags":null})");
  CHECK(Ids(by_host_paths[0].snapshots) == std::vector<int>{1, 2});
  // Paths come out sorted always, tags only when grouping by them.
  CHECK(by_host_paths[0].snapshots[0].second.paths == std::vector<std::string>{"/a", "/b"});
  CHECK(by_host_paths[0].snapshots[0].second.tags == std::vector<std::string>{"y", "x"});

  auto by_tags = GroupSnapshots(list, *ParseGroupBy("tags"));
  REQUIRE(by_tags.size() == 2);
  CHECK(by_tags[0].key_json == R"({"hostname":"","paths":null,"tags":["x","y"]})");
  CHECK(Ids(by_tags[0].snapshots) == std::vector<int>{1, 3});
  CHECK(by_tags[1].key_json == R"({"hostname":"","paths":null,"tags":null})");
  CHECK(!by_tags[1].tags.has_value());

  auto one = GroupSnapshots(list, *ParseGroupBy(""));
  REQUIRE(one.size() == 1);
  CHECK(one[0].snapshots.size() == 3);
}

TEST_CASE("keep-last counts every snapshot, newest first, ties in input order") {
  ExpirePolicy p;
  p.last = 3;
  auto r = ApplyPolicy({Snap(1, "2022-01-01T00:00:00Z"), Snap(2, "2022-01-03T00:00:00Z"),
                        Snap(3, "2022-01-02T00:00:00Z"), Snap(4, "2022-01-03T00:00:00Z"),
                        Snap(5, "2021-12-31T00:00:00Z")},
                       p, kNow);
  CHECK(Ids(r.keep) == std::vector<int>{2, 4, 3});
  CHECK(Ids(r.remove) == std::vector<int>{1, 5});
  REQUIRE(r.reasons.size() == 3);
  CHECK(r.reasons[0].matches == std::vector<std::string>{"last snapshot"});
  CHECK(r.reasons[0].counters.last == 2);
  CHECK(r.reasons[2].counters.last == 0);
}

TEST_CASE("calendar buckets read the time in its own offset") {
  ExpirePolicy p;
  p.daily = 2;
  // 23:30 at -08:00 is the next day in UTC, but day 2022-01-01 for restic.
  auto r = ApplyPolicy({Snap(1, "2022-01-01T23:30:00-08:00"), Snap(2, "2022-01-01T10:00:00Z"),
                        Snap(3, "2021-12-31T20:00:00Z")},
                       p, kNow);
  CHECK(Ids(r.keep) == std::vector<int>{1, 3});
  CHECK(Ids(r.remove) == std::vector<int>{2});
}

TEST_CASE("several rules give several reasons; counters show what is left") {
  ExpirePolicy p;
  p.daily = 3;
  p.weekly = 2;
  p.yearly = 5;
  p.tags = {{"keep"}};
  auto r = ApplyPolicy({Snap(1, "2021-12-31T10:00:00Z"), Snap(2, "2022-01-01T10:00:00Z"),
                        Snap(3, "2022-01-01T12:00:00Z", "h", {"keep"}), Snap(4, "2022-01-03T10:00:00Z")},
                       p, kNow);
  CHECK(Ids(r.keep) == std::vector<int>{4, 3, 1});
  CHECK(Ids(r.remove) == std::vector<int>{2});
  CHECK(r.reasons[0].matches ==
        std::vector<std::string>{"daily snapshot", "weekly snapshot", "yearly snapshot"});
  CHECK(r.reasons[1].matches ==
        std::vector<std::string>{"has tags [keep]", "daily snapshot", "weekly snapshot"});
  CHECK(r.reasons[2].matches == std::vector<std::string>{"daily snapshot", "yearly snapshot"});
  CHECK((r.reasons[2].counters.daily == 0 && r.reasons[2].counters.weekly == 0 &&
         r.reasons[2].counters.yearly == 3));
}

TEST_CASE("keep-within is relative to the newest snapshot not in the future") {
  ExpirePolicy p;
  p.within = {0, 0, 2, 0};
  auto r = ApplyPolicy({Snap(1, "2022-01-10T00:00:00Z"), Snap(2, "2022-01-08T00:00:01Z"),
                        Snap(3, "2022-01-08T00:00:00Z"), Snap(4, "2099-01-01T00:00:00Z")},
                       p, kNow);
  CHECK(Ids(r.keep) == std::vector<int>{4, 1, 2});
  CHECK(Ids(r.remove) == std::vector<int>{3});
  CHECK(r.reasons[1].matches == std::vector<std::string>{"within 2d"});
}

TEST_CASE("keep-within-daily keeps one per day inside the window") {
  ExpirePolicy p;
  p.within_daily = {0, 0, 2, 0};
  p.within_yearly = {1, 0, 0, 0};
  auto r = ApplyPolicy({Snap(1, "2022-01-10T12:00:00Z"), Snap(2, "2022-01-10T08:00:00Z"),
                        Snap(3, "2022-01-09T08:00:00Z"), Snap(4, "2022-01-08T08:00:00Z"),
                        Snap(5, "2021-06-01T00:00:00Z"), Snap(6, "2020-06-01T00:00:00Z")},
                       p, kNow);
  CHECK(Ids(r.keep) == std::vector<int>{1, 3, 5});
  CHECK(r.reasons[0].matches == std::vector<std::string>{"daily within 2d", "yearly within 1y"});
  CHECK(r.reasons[2].matches == std::vector<std::string>{"yearly within 1y"});
}

TEST_CASE("empty and negative policies behave as in restic 0.14") {
  std::vector<SnapshotEntry> list = {Snap(1, "2022-01-01T00:00:00Z"), Snap(2, "2022-01-02T00:00:00Z")};
  ExpirePolicy empty;
  CHECK(empty.Empty());
  auto kept = ApplyPolicy(list, empty, kNow);
  CHECK(Ids(kept.keep) == std::vector<int>{2, 1});
  CHECK(kept.reasons[0].matches == std::vector<std::string>{"policy is empty"});

  ExpirePolicy negative;
  negative.last = -1;
  CHECK(!negative.Empty());
  auto r = ApplyPolicy(list, negative, kNow);
  CHECK(r.keep.empty());
  CHECK(r.remove.size() == 2);
  CHECK(DescribePolicy(negative) == "keep ");
}

TEST_CASE("policy descriptions match restic's String()") {
  ExpirePolicy p;
  p.last = 1;
  p.daily = 7;
  p.within_weekly = {0, 2, 0, 0};
  p.within_daily = {0, 0, 3, 0};
  p.tags = {{"a", "b"}, {"c"}};
  p.within = {1, 0, 0, 12};
  CHECK(DescribePolicy(p) ==
        "keep 1 latest, 7 daily snapshots, daily snapshots within 3d, weekly snapshots within "
        "2m and all snapshots with tags [[a, b] [c]] and all snapshots within 1y12h of the newest");
  ExpirePolicy w;
  w.within = {0, 0, 5, 0};
  CHECK(DescribePolicy(w) == "keep all snapshots within 5d of the newest");
}
