// Go-compatible strconv.Quote and encoding/json string output. The expected
// strings come from restic 0.14.0 (built with Go 1.19) trees unless noted.
#include <catch2/catch.hpp>

#include <optional>
#include <random>
#include <string>

#include "base/go_json.h"

namespace stash {
namespace {

std::string JsonString(std::string_view s) {
  std::string out;
  AppendGoJsonString(out, s);
  return out;
}

TEST_CASE("GoQuoteInner matches restic's name quoting", "[go_json]") {
  const std::pair<std::string, std::string> cases[] = {
      {"with space", "with space"},
      {"quote\"s", "quote\\\"s"},
      {"back\\slash", "back\\\\slash"},
      {"<>&", "<>&"},
      {"new\nline", "new\\nline"},
      {"tab\there", "tab\\there"},
      {"bell\abs\bff\fvt\vcr\r", "bell\\abs\\bff\\fvt\\vcr\\r"},
      {"del\x7f" "esc\x1b", "del\\x7fesc\\x1b"},
      {"\xc3\xa9\xe6\x97\xa5\xe6\x9c\xac", "\xc3\xa9\xe6\x97\xa5\xe6\x9c\xac"},
      {"bad\xff\xfeutf8", "bad\\xff\\xfeutf8"},
      {"trunc\xe6\x97", "trunc\\xe6\\x97"},
      {"\xe2\x80\xa8sep\xe2\x80\xa9", "\\u2028sep\\u2029"},
      {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},      // U+1F600 (Unicode 6)
      {"melt\xf0\x9f\xab\xa0", "melt\\U0001fae0"},  // Unicode 14: not in 0.14
      {"zw\xe2\x80\x8bsp", "zw\\u200bsp"},           // zero-width space, Cf
      {"nb\xc2\xa0sp\xc2\xad", "nb\\u00a0sp\\u00ad"},
      {"c1\xc2\x85", "c1\\u0085"},
      {"repl\xef\xbf\xbd", "repl\xef\xbf\xbd"},  // a real U+FFFD is printable
  };
  for (const auto& [raw, quoted] : cases) {
    INFO(quoted);
    CHECK(GoQuoteInner(raw) == quoted);
    CHECK(GoUnquoteInner(quoted) == raw);
  }
}

TEST_CASE("GoQuoteInner handles every kind of rune", "[go_json]") {
  CHECK(GoQuoteInner("") == "");
  CHECK(GoQuoteInner(std::string("\0", 1)) == "\\x00");
  CHECK(GoQuoteInner("\x1f") == "\\x1f");
  CHECK(GoQuoteInner(" ~") == " ~");
  CHECK(GoQuoteInner("'") == "'");
  CHECK(GoQuoteInner("\xcc\x81") == "\xcc\x81");  // combining mark
  CHECK(GoQuoteInner("\xcd\xb8") == "\\u0378");   // unassigned
  CHECK(GoQuoteInner("\xe3\x80\x80") == "\\u3000");  // ideographic space
  CHECK(GoQuoteInner("\xee\x80\x80") == "\\ue000");  // private use
  CHECK(GoQuoteInner("\xef\xbb\xbf") == "\\ufeff");  // BOM, Cf
  CHECK(GoQuoteInner("\xf4\x8f\xbf\xbf") == "\\U0010ffff");
  CHECK(GoQuoteInner("\xf0\x9f\x87\xa9") == "\xf0\x9f\x87\xa9");  // flag letter
  // Invalid UTF-8 goes byte by byte: surrogates, overlong forms, > U+10FFFF.
  CHECK(GoQuoteInner("\xed\xa0\x80") == "\\xed\\xa0\\x80");
  CHECK(GoQuoteInner("\xc0\x80") == "\\xc0\\x80");
  CHECK(GoQuoteInner("\xe0\x80\xaf") == "\\xe0\\x80\\xaf");
  CHECK(GoQuoteInner("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");
  CHECK(GoQuoteInner("\xf8\x88\x80\x80\x80") == "\\xf8\\x88\\x80\\x80\\x80");
  CHECK(GoQuoteInner("\x80" "a") == "\\x80a");
  CHECK(GoQuoteInner("\xe6\x97" "a") == "\\xe6\\x97a");
}

// Go 1.19's strconv.IsPrint table (Unicode 13.0.0) at range edges where
// Unicode 14/15 (newer Go) differ, and a count over all scalar values.
TEST_CASE("GoQuoteInner uses the Unicode 13 printable table", "[go_json]") {
  const auto printable = [](uint32_t r) {
    std::string s;
    const auto add = [&s](uint32_t byte) { s += static_cast<char>(byte); };
    if (r < 0x800) {
      add(0xc0 | (r >> 6));
    } else if (r < 0x10000) {
      add(0xe0 | (r >> 12));
      add(0x80 | ((r >> 6) & 0x3f));
    } else {
      add(0xf0 | (r >> 18));
      add(0x80 | ((r >> 12) & 0x3f));
      add(0x80 | ((r >> 6) & 0x3f));
    }
    add(0x80 | (r & 0x3f));
    return GoQuoteInner(s) == s;
  };
  CHECK(printable(0x1f978));       // Unicode 13
  CHECK_FALSE(printable(0x1fae0));  // Unicode 14
  CHECK_FALSE(printable(0x061d));   // Unicode 14
  CHECK_FALSE(printable(0x1f6dd));  // Unicode 14
  CHECK_FALSE(printable(0x31350));  // Unicode 15 CJK extension H
  CHECK(printable(0x3134a));        // last of CJK extension G
  CHECK(printable(0x2b734));
  CHECK_FALSE(printable(0x2b735));  // Unicode 14
  CHECK(printable(0xe0100));        // variation selector
  CHECK_FALSE(printable(0xe01f0));
  CHECK_FALSE(printable(0xa0));
  CHECK(printable(0xa1));
  int count = 0;
  for (uint32_t r = 0x80; r <= 0x10ffff; ++r) {
    if (r >= 0xd800 && r <= 0xdfff) continue;
    count += printable(r);
  }
  // Printable non-ASCII scalar values per UnicodeData 13.0.0 (L, M, N, P, S).
  CHECK(count == 143585);
}

TEST_CASE("GoUnquoteInner accepts Go escapes", "[go_json]") {
  CHECK(GoUnquoteInner("") == "");
  CHECK(GoUnquoteInner("\\x41\\101\\u00e9\\U0001F600") ==
        "AA\xc3\xa9\xf0\x9f\x98\x80");
  CHECK(GoUnquoteInner("\\xff\\377") == "\xff\xff");  // raw bytes
  CHECK(GoUnquoteInner("\\u0041") == "A");
  CHECK(GoUnquoteInner("a\tb") == "a\tb");  // a raw tab is allowed
  CHECK(GoUnquoteInner("\\\\\\\"") == "\\\"");
  // A raw invalid byte becomes U+FFFD, as in Go.
  CHECK(GoUnquoteInner("a\xff") == "a\xef\xbf\xbd");
  CHECK(GoUnquoteInner("\\n\xff") == "\n\xef\xbf\xbd");
}

TEST_CASE("GoUnquoteInner rejects what strconv.Unquote rejects",
          "[go_json]") {
  const char* bad[] = {
      "a\"b", "a\nb",  "\\",       "a\\",         "\\q",        "\\'",
      "\\x4", "\\xg0", "\\u12",    "\\ud800",     "\\U00110000", "\\400",
      "\\18", "\\1",   "\\UFFFFFFFF", "\\u{41}",
  };
  for (const char* text : bad) {
    INFO(text);
    CHECK_FALSE(GoUnquoteInner(text));
  }
}

TEST_CASE("GoUnquoteInner inverts GoQuoteInner", "[go_json]") {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> byte(0, 255), len(0, 24);
  for (int i = 0; i < 20000; ++i) {
    std::string raw(len(rng), '\0');
    for (char& c : raw) c = static_cast<char>(byte(rng));
    const std::string quoted = GoQuoteInner(raw);
    INFO(quoted);
    REQUIRE(GoUnquoteInner(quoted) == raw);
  }
}

TEST_CASE("GoUnquoteInner survives arbitrary input", "[go_json]") {
  const std::string alphabet = "\\\"xuU01789afAF\n\t \xff\xc3\xa9";
  std::mt19937 rng(1);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<int> len(0, 16);
  for (int i = 0; i < 50000; ++i) {
    std::string text(len(rng), '\0');
    for (char& c : text) c = alphabet[pick(rng)];
    auto raw = GoUnquoteInner(text);
    // Whatever unquotes must quote back to something that unquotes the same.
    if (raw) CHECK(GoUnquoteInner(GoQuoteInner(*raw)) == raw);
  }
}

TEST_CASE("AppendGoJsonString escapes like encoding/json", "[go_json]") {
  CHECK(JsonString("") == "\"\"");
  CHECK(JsonString("plain /path") == "\"plain /path\"");
  CHECK(JsonString("<>&") == "\"\\u003c\\u003e\\u0026\"");
  CHECK(JsonString("\"\\") == "\"\\\"\\\\\"");
  CHECK(JsonString("\n\r\t") == "\"\\n\\r\\t\"");
  // Go 1.19 has no \b or \f short forms; DEL passes through.
  CHECK(JsonString(std::string("\0\b\f\x1f\x7f", 5)) ==
        "\"\\u0000\\u0008\\u000c\\u001f\x7f\"");
  CHECK(JsonString("\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80") ==
        "\"\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80\"");
  CHECK(JsonString("\xe2\x80\xa8\xe2\x80\xa9") == "\"\\u2028\\u2029\"");
  CHECK(JsonString("a\xff" "b\xe6\x97") == "\"a\\ufffdb\\ufffd\\ufffd\"");
  CHECK(JsonString("\xef\xbf\xbd") == "\"\xef\xbf\xbd\"");
  CHECK(JsonString("\xed\xa0\x80") == "\"\\ufffd\\ufffd\\ufffd\"");
  // A symlink target in a restic 0.14 tree (not strconv-quoted).
  CHECK(JsonString("tgt <&> \"q\" \\ \t\n\x01 \xc3\xa9 \xe2\x80\xa8 \xff") ==
        "\"tgt \\u003c\\u0026\\u003e \\\"q\\\" \\\\ \\t\\n\\u0001 \xc3\xa9 "
        "\\u2028 \\ufffd\"");
}

TEST_CASE("AppendGoJsonString appends", "[go_json]") {
  std::string out = "x:";
  AppendGoJsonString(out, "y");
  CHECK(out == "x:\"y\"");
}

TEST_CASE("GoJsonStringValue replaces invalid bytes like Go's decoder",
          "[go_json]") {
  CHECK(GoJsonStringValue("ok \xc3\xa9") == "ok \xc3\xa9");
  CHECK(GoJsonStringValue("a\xff" "b") == "a\xef\xbf\xbd" "b");
  CHECK(GoJsonStringValue("\xe6\x97") == "\xef\xbf\xbd\xef\xbf\xbd");
}

TEST_CASE("GoJsonKeyMatches folds ASCII case", "[go_json]") {
  CHECK(GoJsonKeyMatches("name", "name"));
  CHECK(GoJsonKeyMatches("NAME", "name"));
  CHECK(GoJsonKeyMatches("Device_ID", "device_id"));
  CHECK_FALSE(GoJsonKeyMatches("names", "name"));
  CHECK_FALSE(GoJsonKeyMatches("nam", "name"));
}

}  // namespace
}  // namespace stash
