// Paths, snapshot selection, and a backup/restore round trip in-process.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/archiver.h"
#include "engine/paths.h"
#include "engine/restorer.h"
#include "engine/snapshot_select.h"
#include "storage/local_backend.h"

namespace fs = std::filesystem;
using namespace stash;

namespace {

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/stash-engine-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string path;
};

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::unique_ptr<Repository> NewRepo(const std::string& path) {
  InitOptions o;
  o.chunker_polynomial = 0x3DA3358B4DC173;
  o.kdf = {1024, 8, 1};
  auto r = Repository::Init(std::make_unique<LocalBackend>(path), "pw", o);
  REQUIRE(r.ok());
  return std::move(*r);
}

}  // namespace

TEST_CASE("CleanPath follows Go's filepath.Clean") {
  CHECK(CleanPath("") == ".");
  CHECK(CleanPath("/") == "/");
  CHECK(CleanPath("a//b/./c/") == "a/b/c");
  CHECK(CleanPath("./a/../a/b") == "a/b");
  CHECK(CleanPath("../../x") == "../../x");
  CHECK(CleanPath("/../x") == "/x");
  CHECK(CleanPath("a/..") == ".");
}

TEST_CASE("path components and root folders as restic builds trees") {
  CHECK(PathComponents("/tmp/td") == std::vector<std::string>{"tmp", "td"});
  CHECK(PathComponents("a/b") == std::vector<std::string>{"a", "b"});
  CHECK(PathComponents("../src/a") == std::vector<std::string>{"src", "a"});
  CHECK(PathComponents(".").empty());
  CHECK(PathComponents("/").empty());
  CHECK(RootDirectory("/x/y") == "/");
  CHECK(RootDirectory("x/y") == ".");
  CHECK(RootDirectory("../../x") == "../..");
}

TEST_CASE("snapshot filters") {
  Snapshot s;
  s.hostname = "h1";
  s.tags = {"a", "b"};
  s.paths = {"/x", "/y"};
  CHECK(MatchesFilter(s, {}));
  CHECK(MatchesFilter(s, {{"h1"}, {}, {}}));
  CHECK(!MatchesFilter(s, {{"h2"}, {}, {}}));
  CHECK(MatchesFilter(s, {{}, {"a,b"}, {}}));
  CHECK(!MatchesFilter(s, {{}, {"a,c"}, {}}));
  CHECK(MatchesFilter(s, {{}, {"a,c", "b"}, {}}));
  CHECK(MatchesFilter(s, {{}, {}, {"/x"}}));
  CHECK(!MatchesFilter(s, {{}, {}, {"/x", "/z"}}));
}

TEST_CASE("backup and restore round trip", "[engine]") {
  TempDir dir;
  std::string src = dir.path + "/src";
  fs::create_directories(src + "/sub/empty");
  WriteFile(src + "/a.txt", "hello");
  WriteFile(src + "/sub/empty.bin", "");
  std::string big(3'000'000, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>(i / 4096);
  WriteFile(src + "/sub/big", big);
  ::symlink("a.txt", (src + "/link").c_str());
  ::chmod((src + "/a.txt").c_str(), 0640);
  ::mkfifo((src + "/fifo").c_str(), 0600);

  auto repo = NewRepo(dir.path + "/repo");
  ChunkerTables tables(repo->config().chunker_polynomial);
  BackupOptions opts;
  opts.targets = {src};
  opts.hostname = "test";
  auto result = Backup(*repo, tables, opts);
  REQUIRE(result.ok());
  CHECK(result->warnings.empty());
  CHECK(result->summary.files_new == 3);
  CHECK(result->summary.total_bytes_processed == 5 + big.size());

  auto entry = FindSnapshot(*repo, "latest", {});
  REQUIRE(entry.ok());
  CHECK(entry->second.paths == std::vector<std::string>{src});

  RestoreOptions ro;
  ro.target = dir.path + "/out";
  auto restored = Restore(*repo, entry->second, ro);
  REQUIRE(restored.ok());
  CHECK(restored->warnings.empty());
  std::string out = ro.target + src;
  CHECK(ReadFile(out + "/a.txt") == "hello");
  CHECK(ReadFile(out + "/sub/big") == big);
  CHECK(fs::is_directory(out + "/sub/empty"));
  CHECK(fs::file_size(out + "/sub/empty.bin") == 0);
  CHECK(fs::read_symlink(out + "/link") == "a.txt");
  CHECK(fs::is_fifo(out + "/fifo"));
  struct stat a, b;
  REQUIRE(::stat((src + "/a.txt").c_str(), &a) == 0);
  REQUIRE(::stat((out + "/a.txt").c_str(), &b) == 0);
  CHECK((b.st_mode & 07777) == 0640);
  CHECK(a.st_mtim.tv_sec == b.st_mtim.tv_sec);
  CHECK(a.st_mtim.tv_nsec == b.st_mtim.tv_nsec);

  SECTION("subfolder and include") {
    RestoreOptions sub;
    sub.target = dir.path + "/out2";
    sub.subfolder = src + "/sub";
    REQUIRE(Restore(*repo, entry->second, sub).ok());
    CHECK(ReadFile(sub.target + "/big") == big);
    CHECK(!fs::exists(sub.target + "/a.txt"));

    RestoreOptions inc;
    inc.target = dir.path + "/out3";
    inc.include = *PathFilter::Compile({"*.txt"});
    REQUIRE(Restore(*repo, entry->second, inc).ok());
    CHECK(ReadFile(inc.target + src + "/a.txt") == "hello");
    CHECK(!fs::exists(inc.target + src + "/sub/big"));
  }
  SECTION("a missing subfolder is an error naming it") {
    RestoreOptions sub;
    sub.target = dir.path + "/out4";
    sub.subfolder = "/no/such";
    auto r = Restore(*repo, entry->second, sub);
    REQUIRE(!r.ok());
    CHECK(r.error().message().find("/no/such") != std::string::npos);
  }
}
