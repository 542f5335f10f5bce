// The backup's lists and selection rules, with the values restic 0.14
// gives for the same input (cmd/restic/exclude.go, cmd_backup.go, Go's
// os.Expand, strconv.ParseInt and filepath.Glob).
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "engine/backup_lists.h"
#include "engine/backup_selection.h"
#include "test/unit/engine_test_util.h"
#include "test/unit/test_util.h"

namespace fs = std::filesystem;
using namespace stash;
using namespace stash::testing;
using Strings = std::vector<std::string>;

namespace {

std::string Env(const std::string& name) {
  static const std::map<std::string, std::string> env = {{"HOME", "/home/u"}, {"-", "dash"}, {"1", "one"}};
  auto it = env.find(name);
  return it == env.end() ? "" : it->second;
}

struct stat StatWith(uint64_t dev, mode_t mode, off_t size) {
  struct stat st = {};
  st.st_dev = dev;
  st.st_mode = mode;
  st.st_size = size;
  return st;
}

std::shared_ptr<BackupSelection> MustMake(const SelectionSpec& spec, const Strings& targets = {}) {
  auto sel = BackupSelection::Make(spec, targets);
  REQUIRE(sel.ok());
  return *sel;
}

}  // namespace

TEST_CASE("backup: --exclude-larger-than sizes as restic parses them") {
  CHECK(*ParseSize("100") == 100);
  CHECK(*ParseSize("10b") == 10);
  CHECK(*ParseSize("1k") == 1024);
  CHECK(*ParseSize("2M") == 2 << 20);
  CHECK(*ParseSize("3g") == int64_t{3} << 30);
  CHECK(*ParseSize("1T") == int64_t{1} << 40);
  CHECK(*ParseSize("+5K") == 5 * 1024);
  CHECK(*ParseSize("-1") == -1);
  CHECK(ParseSize("1.5M").error().message() == "strconv.ParseInt: parsing \"1.5\": invalid syntax");
  CHECK(ParseSize("k").error().message() == "strconv.ParseInt: parsing \"\": invalid syntax");
  CHECK(ParseSize("12x").error().message() == "strconv.ParseInt: parsing \"12x\": invalid syntax");
  CHECK(ParseSize("99999999999999999999").error().message() ==
        "strconv.ParseInt: parsing \"99999999999999999999\": value out of range");
  CHECK(*ParseSize("9223372036854775807") == INT64_MAX);
  CHECK(ParseSize("").error().message() == "expected size, got empty string");
}

TEST_CASE("backup: --files-from lines: trimmed, empty lines and # comments skipped") {
  CHECK(FilesFromPatterns("a\n  b  \n\n# comment\n  # indented\r\nc\r\n\t\n") == Strings{"a", "b", "c"});
  CHECK(FilesFromPatterns("no newline at the end") == Strings{"no newline at the end"});
  CHECK(FilesFromPatterns("") == Strings{});
  // --files-from-verbatim keeps everything but empty lines.
  CHECK(FilesFromVerbatim("a\n  b  \n\n# c\r\n") == Strings{"a", "  b  ", "# c"});
}

TEST_CASE("backup: --files-from-raw: NUL-terminated names") {
  CHECK(*FilesFromRaw(std::string("a\0b c\0", 6)) == Strings{"a", "b c"});
  CHECK(FilesFromRaw("").value().empty());
  CHECK(FilesFromRaw("a").error().message() == "--files-from-raw: trailing zero byte missing");
  CHECK(FilesFromRaw(std::string("a\0\0", 3)).error().message() ==
        "--files-from-raw: empty filename in listing");
}

TEST_CASE("backup: --exclude-file lines: comments, white space and $VARIABLES") {
  CHECK(ExcludeFilePatterns("# c\n  *.log  \n\n$HOME/x\n${HOME}y\n$$HOME\n", Env) ==
        Strings{"*.log", "/home/u/x", "/home/uy", "$HOME"});
  CHECK(ExpandVariables("a$", Env) == "a$");
  CHECK(ExpandVariables("$ x", Env) == "$ x");
  CHECK(ExpandVariables("${", Env) == "");
  CHECK(ExpandVariables("${}x", Env) == "x");
  CHECK(ExpandVariables("$-x$1", Env) == "dashxone");
  CHECK(ExpandVariables("${-}", Env) == "dash");
  CHECK(ExpandVariables("$UNSET/a", Env) == "/a");
}

TEST_CASE("backup: text files: byte order marks and UTF-16") {
  CHECK(DecodeText("\xEF\xBB\xBFx\n") == "x\n");
  CHECK(DecodeText(std::string("\xFF\xFE" "a\0\xE4\0\n\0", 8)) == "a\xC3\xA4\n");
  CHECK(DecodeText(std::string("\xFE\xFF\0a\xD8\x3D\xDE\x00", 8)) == "a\xF0\x9F\x98\x80");
  CHECK(DecodeText("plain") == "plain");
}

TEST_CASE("backup: Glob as Go's filepath.Glob") {
  TempDir dir;
  fs::create_directories(dir.path + "/sub");
  for (const char* f : {"/b.txt", "/a.txt", "/.hidden.txt", "/sub/c.txt", "/x.log"}) WriteFile(dir.path + f, "");
  CHECK(*Glob(dir.path + "/*.txt") == Strings{dir.path + "/.hidden.txt", dir.path + "/a.txt", dir.path + "/b.txt"});
  CHECK(*Glob(dir.path + "/*/c.txt") == Strings{dir.path + "/sub/c.txt"});
  CHECK(*Glob(dir.path + "//sub/../a.txt") == Strings{dir.path + "//sub/../a.txt"});  // no wildcard: as given
  CHECK(Glob(dir.path + "/nothing*")->empty());
  CHECK(Glob(dir.path + "/missing")->empty());
  CHECK(Glob(dir.path + "/[").error().message() == "syntax error in pattern");
}

TEST_CASE("backup: patterns are checked per flag, in restic's words") {
  CHECK(ValidatePatterns("--exclude", {"ok", "*.c"}).ok());
  Status bad = ValidatePatterns("--exclude", {"ok", "[x", "a\\"});
  REQUIRE(!bad.ok());
  CHECK(bad.error().message() == "--exclude: invalid pattern(s) provided:\n[x\na\\");
  CHECK(LowerUtf8("ÄBC/Straße") == "äbc/straße");
  CHECK(LowerUtf8("a\xFFZ") == "a\xEF\xBF\xBDz");
}

TEST_CASE("backup: --exclude and --iexclude") {
  SelectionSpec spec;
  spec.excludes = {"*.tmp"};
  spec.iexcludes = {"*.JPG", "/Data/Cache"};
  auto sel = MustMake(spec);
  CHECK(!sel->SelectByName("/a/b.tmp"));
  CHECK(sel->SelectByName("/a/b.TMP"));
  CHECK(!sel->SelectByName("/a/photo.jpg"));
  CHECK(!sel->SelectByName("/a/photo.Jpg"));
  CHECK(!sel->SelectByName("/data/cache/x"));
  CHECK(sel->SelectByName("/data/caches"));
  CHECK(sel->SelectByName("/a/photo.png"));
}

TEST_CASE("backup: --exclude-caches and --exclude-if-present") {
  TempDir dir;
  const std::string sig = "Signature: 8a477f597d28d172789f06886806bc55";
  for (const char* d : {"/cache", "/wrong", "/short", "/empty", "/plain", "/marked"}) fs::create_directories(dir.path + d);
  WriteFile(dir.path + "/cache/CACHEDIR.TAG", sig + "\n# a cache\n");
  WriteFile(dir.path + "/wrong/CACHEDIR.TAG", "Signature: 0000000000000000000000000000000000");
  WriteFile(dir.path + "/short/CACHEDIR.TAG", "Signature: 8a4");
  WriteFile(dir.path + "/empty/CACHEDIR.TAG", "");
  WriteFile(dir.path + "/marked/.nobackup", "");
  SelectionSpec spec;
  spec.exclude_caches = true;
  spec.if_present = {".nobackup"};
  auto sel = MustMake(spec);
  CHECK(!sel->SelectByName(dir.path + "/cache/data"));
  CHECK(!sel->SelectByName(dir.path + "/cache/sub"));
  CHECK(sel->SelectByName(dir.path + "/cache/CACHEDIR.TAG"));  // the tag file itself stays
  CHECK(sel->SelectByName(dir.path + "/cache"));               // and so does the folder
  CHECK(!sel->SelectByName(dir.path + "/marked/x"));
  CHECK(sel->SelectByName(dir.path + "/marked/.nobackup"));
  CHECK(sel->SelectByName(dir.path + "/plain/x"));
  CHECK(sel->SelectByName(dir.path + "/wrong/x"));
  CHECK(sel->SelectByName(dir.path + "/short/x"));
  CHECK(sel->SelectByName(dir.path + "/empty/x"));
  CHECK(sel->SelectByName(dir.path + "/empty/y"));  // asked again: no second notice
  Strings notices = sel->TakeNotices();
  std::sort(notices.begin(), notices.end());
  CHECK(notices == Strings{
      "could not read signature from exclusion tagfile \"" + dir.path + "/short/CACHEDIR.TAG\": unexpected EOF",
      "invalid (too short) signature in exclusion tagfile \"" + dir.path + "/empty/CACHEDIR.TAG\"",
      "invalid signature in exclusion tagfile \"" + dir.path + "/wrong/CACHEDIR.TAG\""});
  SelectionSpec bad;
  bad.if_present = {""};
  CHECK(BackupSelection::Make(bad, {}).error().message() == "name for exclusion tagfile is empty");
  bad.if_present = {":Signature"};
  CHECK(BackupSelection::Make(bad, {}).error().message() == "no name for exclusion tagfile provided");
}

TEST_CASE("backup: --exclude-larger-than and --one-file-system") {
  TempDir dir;
  fs::create_directories(dir.path + "/mnt");
  struct stat root = Lstat(dir.path);
  uint64_t dev = root.st_dev, other = root.st_dev + 1;
  SelectionSpec spec;
  spec.max_size = 1000;
  spec.one_file_system = true;
  auto sel = MustMake(spec, {dir.path});
  CHECK(sel->Select(dir.path + "/small", StatWith(dev, S_IFREG | 0644, 1000)));
  CHECK(!sel->Select(dir.path + "/big", StatWith(dev, S_IFREG | 0644, 1001)));
  CHECK(!sel->Select(dir.path + "/link", StatWith(dev, S_IFLNK | 0777, 2000)));
  CHECK(sel->Select(dir.path + "/bigdir", StatWith(dev, S_IFDIR | 0755, 1 << 20)));
  // Another device: files are left out, a mount point stays (empty).
  CHECK(!sel->Select(dir.path + "/mnt/f", StatWith(other, S_IFREG | 0644, 1)));
  CHECK(sel->Select(dir.path + "/mnt", StatWith(other, S_IFDIR | 0755, 0)));
  auto missing = BackupSelection::Make(spec, {dir.path + "/nope"});
  REQUIRE(!missing.ok());
  CHECK(missing.error().message() == "lstat " + dir.path + "/nope: no such file or directory");
}
