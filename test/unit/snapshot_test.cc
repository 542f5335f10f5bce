// Snapshot JSON: byte-exact against restic 0.14.0. The fixtures are the
// stored snapshot objects (`restic cat snapshot`, compacted with Go's
// json.Compact, which is how Go's json.Marshal lays them out) and the
// matching elements of `restic snapshots --json`.
#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "crypto/id.h"
#include "storage/snapshot.h"

namespace stash {
namespace {

struct Fixture {
  const char* id;
  std::string stored;  // the snapshot file's JSON
  std::string listed;  // its element of `restic snapshots --json`
};

const Fixture kFixtures[] = {
    {"3497064c00bf145a540f06ca7fa2acb232ddd19d2db3d5cec5e12d8b128981cb",
     R"j({"time":"2026-11-25T09:42:34.921552505-03:30","tree":"20b43a843c151057)j"
     R"j(67123f0df6cde68446625a6b24e1481bd7c09fb6b814b07f","paths":["/tmp/fmtwo)j"
     R"j(rk/fx"],"hostname":"vm","username":"root"})j",
     R"j({"time":"2026-11-25T09:42:34.921552505-03:30","tree":"20b43a843c151057)j"
     R"j(67123f0df6cde68446625a6b24e1481bd7c09fb6b814b07f","paths":["/tmp/fmtwo)j"
     R"j(rk/fx"],"hostname":"vm","username":"root","id":"3497064c00bf145a540f06)j"
     R"j(ca7fa2acb232ddd19d2db3d5cec5e12d8b128981cb","short_id":"3497064c"})j"},
    {"e2c75f13e5d4cf475d39c8669a37eb40f86be868c20c5c6eec8b9da6435f03a8",
     R"j({"time":"2026-11-25T18:42:35.651298534+05:30","tree":"bfffaacdc07b362b)j"
     R"j(12f1077961a64c358ca10c2cac4e20120d1901189ebeab28","paths":["/tmp/fmtwo)j"
     R"j(rk/fx/stickydir"],"hostname":"vm","username":"root"})j",
     R"j({"time":"2026-11-25T18:42:35.651298534+05:30","tree":"bfffaacdc07b362b)j"
     R"j(12f1077961a64c358ca10c2cac4e20120d1901189ebeab28","paths":["/tmp/fmtwo)j"
     R"j(rk/fx/stickydir"],"hostname":"vm","username":"root","id":"e2c75f13e5d4)j"
     R"j(cf475d39c8669a37eb40f86be868c20c5c6eec8b9da6435f03a8","short_id":"e2c7)j"
     R"j(5f13"})j"},
    {"7a812e8f3d269f11ad84e064425aacbad2aadebe7621ca8a4000f01717c41933",
     R"j({"time":"2026-11-25T13:12:36.356748779Z","tree":"9a405991d40abe8325e61)j"
     R"j(0b963f61dd66e74fb33d97bd46cfb23841fe1fceb1e","paths":["/tmp/fmtwork/ba)j"
     R"j(dlink"],"hostname":"vm","username":"root"})j",
     R"j({"time":"2026-11-25T13:12:36.356748779Z","tree":"9a405991d40abe8325e61)j"
     R"j(0b963f61dd66e74fb33d97bd46cfb23841fe1fceb1e","paths":["/tmp/fmtwork/ba)j"
     R"j(dlink"],"hostname":"vm","username":"root","id":"7a812e8f3d269f11ad84e0)j"
     R"j(64425aacbad2aadebe7621ca8a4000f01717c41933","short_id":"7a812e8f"})j"},
    {"5e3d9238718e8c8c39169264885d80d9872feba7905b5f5f4a7922b1f637bfbb",
     R"j({"time":"2026-11-25T13:12:37.071107182Z","tree":"5da39f28ee511f41d2a69)j"
     R"j(e36484a39570577152d8a03fa47afbb927dadb9af0f","paths":["/tmp/fmtwork/fx)j"
     R"j(/stickydir"],"hostname":"hé\u003cst\u003e","username":"root","excludes)j"
     R"j(":["big","*.nope"],"tags":["t1","t2","x\u003cy"]})j",
     R"j({"time":"2026-11-25T13:12:37.071107182Z","tree":"5da39f28ee511f41d2a69)j"
     R"j(e36484a39570577152d8a03fa47afbb927dadb9af0f","paths":["/tmp/fmtwork/fx)j"
     R"j(/stickydir"],"hostname":"hé\u003cst\u003e","username":"root","excludes)j"
     R"j(":["big","*.nope"],"tags":["t1","t2","x\u003cy"],"id":"5e3d9238718e8c8)j"
     R"j(c39169264885d80d9872feba7905b5f5f4a7922b1f637bfbb","short_id":"5e3d923)j"
     R"j(8"})j"},
    {"766d584f46a574dd95cbcf528c30b221a209b9642c001071dfaf7abd4eab9b18",
     R"j({"time":"2026-11-25T13:12:37.775651874Z","parent":"5e3d9238718e8c8c391)j"
     R"j(69264885d80d9872feba7905b5f5f4a7922b1f637bfbb","tree":"5da39f28ee511f4)j"
     R"j(1d2a69e36484a39570577152d8a03fa47afbb927dadb9af0f","paths":["/tmp/fmtw)j"
     R"j(ork/fx/stickydir"],"hostname":"hé\u003cst\u003e","username":"root","ta)j"
     R"j(gs":["t1","t2","x\u003cy","newtag"],"original":"e57ebfb7ef77f892f4f7ed)j"
     R"j(ef7b97d2509b38d404ac329cd17536fbb015b921ad"})j",
     R"j({"time":"2026-11-25T13:12:37.775651874Z","parent":"5e3d9238718e8c8c391)j"
     R"j(69264885d80d9872feba7905b5f5f4a7922b1f637bfbb","tree":"5da39f28ee511f4)j"
     R"j(1d2a69e36484a39570577152d8a03fa47afbb927dadb9af0f","paths":["/tmp/fmtw)j"
     R"j(ork/fx/stickydir"],"hostname":"hé\u003cst\u003e","username":"root","ta)j"
     R"j(gs":["t1","t2","x\u003cy","newtag"],"original":"e57ebfb7ef77f892f4f7ed)j"
     R"j(ef7b97d2509b38d404ac329cd17536fbb015b921ad","id":"766d584f46a574dd95cb)j"
     R"j(cf528c30b221a209b9642c001071dfaf7abd4eab9b18","short_id":"766d584f"})j"},
    {"9006f02f6bcb13760035f5d199f2e6c60947c622e6807743b59e5566552ca722",
     R"j({"time":"2026-11-25T13:12:59.82966938Z","tree":"4799a5a27b147ef12851f9)j"
     R"j(0194e1afe7b9837263e33074c297a07ae9a7674156","paths":["/tmp/fmtwork/nb/)j"
     R"j(data"],"hostname":"vm","username":"nobody","uid":65534,"gid":65534})j",
     R"j({"time":"2026-11-25T13:12:59.82966938Z","tree":"4799a5a27b147ef12851f9)j"
     R"j(0194e1afe7b9837263e33074c297a07ae9a7674156","paths":["/tmp/fmtwork/nb/)j"
     R"j(data"],"hostname":"vm","username":"nobody","uid":65534,"gid":65534,"id)j"
     R"j(":"9006f02f6bcb13760035f5d199f2e6c60947c622e6807743b59e5566552ca722",")j"
     R"j(short_id":"9006f02f"})j"},
};

Snapshot MustDecode(std::string_view json) {
  auto s = DecodeSnapshot(AsBytes(json));
  if (!s.ok()) FAIL(s.error().message());
  return std::move(s).value();
}

Id IdFromHex(std::string_view hex) {
  auto id = Id::FromHex(hex);
  REQUIRE(id);
  return *id;
}

TEST_CASE("restic snapshots re-encode byte for byte", "[snapshot]") {
  for (const Fixture& f : kFixtures) {
    INFO(f.id);
    const Snapshot s = MustDecode(f.stored);
    CHECK(s.extra_json.empty());
    CHECK(EncodeSnapshot(s) == f.stored);
    CHECK(EncodeSnapshotListEntry(s, IdFromHex(f.id)) == f.listed);
  }
}

TEST_CASE("decoded snapshot fields", "[snapshot]") {
  // Written by user nobody: uid and gid present.
  Snapshot s = MustDecode(kFixtures[5].stored);
  CHECK(s.uid == 65534);
  CHECK(s.gid == 65534);
  CHECK(s.username == "nobody");
  CHECK(s.paths == std::vector<std::string>{"/tmp/fmtwork/nb/data"});
  CHECK(s.tree.Hex() ==
        "4799a5a27b147ef12851f90194e1afe7b9837263e33074c297a07ae9a7674156");
  CHECK_FALSE(s.parent);
  CHECK_FALSE(s.original);

  // Tagged after the fact: parent, tags and original.
  s = MustDecode(kFixtures[4].stored);
  CHECK(s.hostname == "h\xc3\xa9<st>");
  CHECK(s.tags == std::vector<std::string>{"t1", "t2", "x<y", "newtag"});
  CHECK(s.excludes.empty());
  REQUIRE(s.parent);
  CHECK(s.parent->Hex() ==
        "5e3d9238718e8c8c39169264885d80d9872feba7905b5f5f4a7922b1f637bfbb");
  REQUIRE(s.original);
  CHECK(s.original->Short() == "e57ebfb7");
  CHECK(s.uid == 0);
  CHECK(FormatRfc3339Nano(s.time) == "2026-11-25T13:12:37.775651874Z");

  s = MustDecode(kFixtures[3].stored);
  CHECK(s.excludes == std::vector<std::string>{"big", "*.nope"});

  s = MustDecode(kFixtures[1].stored);
  CHECK(s.time.utc_offset == 19800);
}

TEST_CASE("every snapshot field in restic 0.14's order", "[snapshot]") {
  Snapshot s;
  s.time = {981173106, 5, -12600};
  s.parent = Id{};
  s.tree.bytes[0] = 0xab;
  s.paths = {"/a", "/b<c"};
  s.hostname = "h";
  s.username = "u";
  s.uid = 1000;
  s.gid = 100;
  s.excludes = {"*.o"};
  s.tags = {"t"};
  s.original = Id{};
  s.original->bytes[31] = 1;
  const std::string zero(64, '0');
  std::string tree(64, '0'), original(64, '0');
  tree.replace(0, 2, "ab");
  original.replace(62, 2, "01");
  const std::string expected =
      "{\"time\":\"2001-02-03T00:35:06.000000005-03:30\",\"parent\":\"" +
      zero + "\",\"tree\":\"" + tree +
      "\",\"paths\":[\"/a\",\"/b\\u003cc\"],\"hostname\":\"h\","
      "\"username\":\"u\",\"uid\":1000,\"gid\":100,\"excludes\":[\"*.o\"],"
      "\"tags\":[\"t\"],\"original\":\"" + original + "\"}";
  CHECK(EncodeSnapshot(s) == expected);
  const Snapshot back = MustDecode(expected);
  CHECK(EncodeSnapshot(back) == expected);
}

TEST_CASE("empty snapshot fields are omitted, paths is not", "[snapshot]") {
  Snapshot s;
  const std::string zero(64, '0');
  CHECK(EncodeSnapshot(s) == "{\"time\":\"1970-01-01T00:00:00Z\",\"tree\":\"" +
                                 zero + "\",\"paths\":null}");
}

// The shape restic >= 0.17 writes (program_version, summary); 0.14 ignores
// these, we keep them for `snapshots --json`.
TEST_CASE("unknown snapshot fields are kept and re-emitted", "[snapshot]") {
  const std::string tree(64, 'a');
  const std::string json =
      "{\"time\":\"2024-06-01T10:00:00.5+02:00\",\"tree\":\"" + tree +
      "\",\"paths\":[\"/home\"],\"program_version\":\"restic 0.17.0\","
      "\"hostname\":\"h\",\"summary\": {\"backup_start\" : "
      "\"2024-06-01T10:00:00.5+02:00\",\n  \"files_new\": 3, \"list\":"
      " [1, 2.5e3, true, null, \"a b\\\" \\u003c\"] } ,\"Future\":[]}";
  const Snapshot s = MustDecode(json);
  CHECK(s.hostname == "h");
  CHECK(s.extra_json ==
        "\"program_version\":\"restic 0.17.0\","
        "\"summary\":{\"backup_start\":\"2024-06-01T10:00:00.5+02:00\","
        "\"files_new\":3,\"list\":[1,2.5e3,true,null,\"a b\\\" \\u003c\"]},"
        "\"Future\":[]");
  const std::string known =
      "{\"time\":\"2024-06-01T10:00:00.5+02:00\",\"tree\":\"" + tree +
      "\",\"paths\":[\"/home\"],\"hostname\":\"h\"";
  CHECK(EncodeSnapshot(s) == known + "," + s.extra_json + "}");
  const Id id = IdFromHex(std::string(64, 'b'));
  CHECK(EncodeSnapshotListEntry(s, id) ==
        known + "," + s.extra_json + ",\"id\":\"" + std::string(64, 'b') +
            "\",\"short_id\":\"bbbbbbbb\"}");
  // Decoding our own output keeps them as they are.
  CHECK(MustDecode(EncodeSnapshot(s)).extra_json == s.extra_json);
}

TEST_CASE("the summary of a backup is written as restic 0.18.1 writes it", "[snapshot]") {
  // A snapshot restic 0.18.1 saved (its `snapshots --json` element, less
  // id and short_id): program_version and summary follow original.
  const std::string restic =
      R"j({"time":"2026-12-05T17:36:24.480671823Z","tree":"0cf58f229b5d60c9075672ff0a6695e463733e3bbf804e5b900c05d15644caa6",)j"
      R"j("paths":["/tmp/s18"],"hostname":"vm","username":"root","program_version":"restic 0.18.1",)j"
      R"j("summary":{"backup_start":"2026-12-05T17:36:24.480671823Z","backup_end":"2026-12-05T17:36:25.219579183Z",)j"
      R"j("files_new":1,"files_changed":0,"files_unmodified":0,"dirs_new":3,"dirs_changed":0,"dirs_unmodified":0,)j"
      R"j("data_blobs":1,"tree_blobs":4,"data_added":1406,"data_added_packed":1243,"total_files_processed":1,)j"
      R"j("total_bytes_processed":3}})j";
  SnapshotSummary summary;
  summary.backup_start = *ParseRfc3339("2026-12-05T17:36:24.480671823Z");
  summary.backup_end = *ParseRfc3339("2026-12-05T17:36:25.219579183Z");
  summary.files_new = 1;
  summary.dirs_new = 3;
  summary.data_blobs = 1;
  summary.tree_blobs = 4;
  summary.data_added = 1406;
  summary.data_added_packed = 1243;
  summary.total_files_processed = 1;
  summary.total_bytes_processed = 3;
  Snapshot s = MustDecode(restic);
  CHECK(EncodeVersionAndSummary("restic 0.18.1", summary) == s.extra_json);
  s.extra_json = EncodeVersionAndSummary("restic 0.18.1", summary);
  CHECK(EncodeSnapshot(s) == restic);
  // A zone other than UTC and a version that needs escaping.
  summary.backup_start = *ParseRfc3339("2026-12-05T14:06:24.5-03:30");
  const std::string start =
      R"j("program_version":"stash \"x\"","summary":{"backup_start":"2026-12-05T14:06:24.5-03:30",)j";
  CHECK(EncodeVersionAndSummary("stash \"x\"", summary).substr(0, start.size()) == start);
}

TEST_CASE("snapshot decoding is as lenient as Go", "[snapshot]") {
  const std::string tree(64, 'A');  // upper-case hex is accepted
  Snapshot s = MustDecode("{\"TREE\":\"" + tree +
                          "\",\"paths\":null,\"tags\":null,\"parent\":null,"
                          "\"uid\":null,\"time\":null}");
  CHECK(s.tree.Hex() == std::string(64, 'a'));
  CHECK(s.paths.empty());
  CHECK_FALSE(s.parent);
  // A missing time is Go's zero time.
  CHECK(FormatRfc3339Nano(s.time) == "0001-01-01T00:00:00Z");
}

TEST_CASE("deeply nested unknown fields are kept", "[snapshot]") {
  const std::string nested =
      std::string(100000, '[') + std::string(100000, ']');
  const Snapshot s = MustDecode("{\"tree\":\"" + std::string(64, 'a') +
                                "\",\"x\":" + nested + "}");
  CHECK(s.extra_json == "\"x\":" + nested);
}

TEST_CASE("malformed snapshots are corrupt, not crashes", "[snapshot]") {
  const std::string tree = "\"tree\":\"" + std::string(64, 'a') + "\"";
  const std::string bad[] = {
      "",
      "{",
      "[]",
      "\"x\"",
      "{}",  // no tree
      "{\"tree\":null}",
      "{\"tree\":\"abc\"}",
      "{" + tree + "}junk",
      "{" + tree + ",\"time\":\"2024-13-01T00:00:00Z\"}",
      "{" + tree + ",\"time\":12}",
      "{" + tree + ",\"paths\":\"/\"}",
      "{" + tree + ",\"paths\":[1]}",
      "{" + tree + ",\"tags\":{}}",
      "{" + tree + ",\"uid\":-1}",
      "{" + tree + ",\"gid\":4294967296}",
      "{" + tree + ",\"hostname\":false}",
      "{" + tree + ",\"parent\":\"zz\"}",
      "{" + tree + ",\"original\":1}",
      "{" + tree + ",\"x\":" + std::string(100000, '{'),
  };
  for (const std::string& json : bad) {
    INFO(json.substr(0, 120));
    auto s = DecodeSnapshot(AsBytes(json));
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().kind() == ErrorKind::kCorrupt);
  }
}

TEST_CASE("mangled snapshots never crash the decoder", "[snapshot]") {
  std::mt19937 rng(3);
  for (int i = 0; i < 5000; ++i) {
    std::string json = kFixtures[4].stored;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !json.empty(); ++e) {
      const size_t pos = rng() % json.size();
      switch (rng() % 3) {
        case 0: json[pos] = static_cast<char>(rng()); break;
        case 1: json.erase(pos, 1 + rng() % 8); break;
        default: json.insert(pos, 1, "{}[]\",: 1"[rng() % 10]); break;
      }
    }
    auto s = DecodeSnapshot(AsBytes(json));
    if (s.ok()) {
      // Whatever we accept, we write back out as JSON we accept again.
      CHECK(DecodeSnapshot(AsBytes(EncodeSnapshot(*s))).ok());
    } else {
      CHECK(s.error().kind() == ErrorKind::kCorrupt);
    }
  }
}

}  // namespace
}  // namespace stash
