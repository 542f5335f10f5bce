#include "base/string_util.h"

#include <catch2/catch.hpp>

namespace stash {
namespace {

TEST_CASE("AsciiLower lowers A to Z only") {
  CHECK(AsciiLower("Content-Type") == "content-type");
  CHECK(AsciiLower("S3://Bucket/@[]`{}") == "s3://bucket/@[]`{}");
  // Bytes of UTF-8 text stay as they are, whatever the locale.
  CHECK(AsciiLower("\xC3\x84Ö") == "\xC3\x84Ö");
  CHECK(AsciiLower(std::string("A\0B", 3)) == std::string("a\0b", 3));
  CHECK(AsciiLower("").empty());
}

TEST_CASE("JoinStrings keeps empty parts") {
  CHECK(JoinStrings({}, ",").empty());
  CHECK(JoinStrings({"a"}, ", ") == "a");
  CHECK(JoinStrings({"a", "", "b"}, ",") == "a,,b");
  CHECK(JoinStrings({"", ""}, " ") == " ");
}

}  // namespace
}  // namespace stash
