// The one --host/--tag/--path filter, against restic 0.14's HasHostname,
// HasTagList and HasPaths (and the cases where stash once differed).
#include <catch2/catch.hpp>

#include "engine/snapshot_filter.h"

using namespace stash;

namespace {

Snapshot Snap(std::string host, std::vector<std::string> tags, std::vector<std::string> paths) {
  Snapshot s;
  s.hostname = std::move(host);
  s.tags = std::move(tags);
  s.paths = std::move(paths);
  return s;
}

SnapshotFilter Tags(std::vector<std::string> values) { return MakeSnapshotFilter({}, values, {}); }

}  // namespace

TEST_CASE("a --tag value is a comma list with spaces trimmed") {
  CHECK(ParseTagList(" a , b") == TagList{"a", "b"});
  CHECK(ParseTagList("a,,b") == TagList{"a", "", "b"});
  CHECK(ParseTagList("") == TagList{""});
  CHECK(ParseTagList("\ta\n") == TagList{"a"});
  CHECK(TagListString({"a", "b"}) == "[a, b]");
}

TEST_CASE("HasTags needs every tag, and an empty tag matches an untagged snapshot") {
  Snapshot tagged = Snap("h", {"a", "b"}, {"/p"});
  Snapshot untagged = Snap("h", {}, {"/p"});
  CHECK(HasTags(tagged, {"a", "b"}));
  CHECK(!HasTags(tagged, {"a", "c"}));
  CHECK(!HasTags(tagged, {""}));
  CHECK(HasTags(untagged, {""}));
  // restic stops at the empty tag: what follows it is not looked at.
  CHECK(HasTags(untagged, {"", "x"}));
  CHECK(!HasTags(untagged, {"x", ""}));
}

TEST_CASE("the filter: any host, any tag list, all paths") {
  Snapshot s = Snap("h1", {"a", "b"}, {"/x", "/y"});
  Snapshot bare = Snap("h2", {}, {"/x"});
  CHECK(MatchesFilter(s, {}));
  CHECK(SnapshotFilter{}.Empty());
  CHECK(MatchesFilter(s, MakeSnapshotFilter({"h1"}, {}, {})));
  CHECK(MatchesFilter(s, MakeSnapshotFilter({"h2", "h1"}, {}, {})));
  CHECK(!MatchesFilter(s, MakeSnapshotFilter({"h2"}, {}, {})));
  // "a, b" is one AND group; the space after the comma is not part of "b".
  CHECK(MatchesFilter(s, Tags({"a, b"})));
  CHECK(!MatchesFilter(s, Tags({"a,c"})));
  CHECK(MatchesFilter(s, Tags({"a,c", "b"})));
  // --tag "" selects snapshots without tags only.
  CHECK(!MatchesFilter(s, Tags({""})));
  CHECK(MatchesFilter(bare, Tags({""})));
  CHECK(MatchesFilter(s, Tags({"", "a"})));
  CHECK(MatchesFilter(s, MakeSnapshotFilter({}, {}, {"/x"})));
  CHECK(MatchesFilter(s, MakeSnapshotFilter({}, {}, {"/y", "/x"})));
  CHECK(!MatchesFilter(s, MakeSnapshotFilter({}, {}, {"/x", "/z"})));
  CHECK(!MatchesFilter(s, MakeSnapshotFilter({}, {}, {"/x/"})));
  // Every kind of condition must hold.
  CHECK(!MatchesFilter(bare, MakeSnapshotFilter({"h2"}, {"a"}, {"/x"})));
  CHECK(MatchesFilter(bare, MakeSnapshotFilter({"h2"}, {""}, {"/x"})));
}
