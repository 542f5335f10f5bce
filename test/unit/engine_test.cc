// Paths, snapshot selection, and a backup/restore round trip in-process.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>

#include "crypto/random.h"
#include "engine/archiver.h"
#include "engine/paths.h"
#include "engine/restorer.h"
#include "engine/snapshot_select.h"
#include "storage/backends/local_backend.h"
#include "test/unit/engine_test_util.h"
#include "test/unit/test_util.h"

namespace fs = std::filesystem;
using namespace stash;
using stash::testing::TempDir;
using namespace stash::testing;


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

TEST_CASE("files read whole around the read size, and past a size lstat got wrong", "[engine]") {
  TempDir dir;
  std::string src = dir.path + "/src";
  fs::create_directories(src);
  const size_t read = 1 << 20;  // the archiver's read size
  std::vector<size_t> sizes = {0, 1, 4095, 65535, 65536, 65537, read - 1, read, read + 1, 2 * read, 3 * read + 7};
  std::vector<std::string> contents;
  for (size_t i = 0; i < sizes.size(); i++) {
    std::string text(sizes[i], '\0');
    for (size_t j = 0; j < text.size(); j++) text[j] = static_cast<char>((j * 31 + i) ^ (j >> 12));
    WriteFile(src + "/f" + std::to_string(i), text);
    contents.push_back(std::move(text));
  }
  auto repo = NewRepo(dir.path + "/repo");
  ChunkerTables tables(repo->config().chunker_polynomial);
  BackupOptions opts;
  // /proc/version: lstat says 0 bytes, and reading gives text.
  const std::string proc = "/proc/version";
  const std::string proc_text = ReadFile(proc);
  REQUIRE(!proc_text.empty());
  struct stat st;
  REQUIRE(::lstat(proc.c_str(), &st) == 0);
  REQUIRE(st.st_size == 0);
  opts.targets = {src, proc};
  opts.hostname = "test";
  auto result = Backup(*repo, tables, opts);
  REQUIRE(result.ok());
  CHECK(result->warnings.empty());
  auto entry = FindSnapshot(*repo, "latest", {});
  REQUIRE(entry.ok());
  RestoreOptions ro;
  ro.target = dir.path + "/out";
  REQUIRE(Restore(*repo, entry->second, ro).ok());
  for (size_t i = 0; i < sizes.size(); i++) {
    INFO("size " << sizes[i]);
    CHECK(ReadFile(ro.target + src + "/f" + std::to_string(i)) == contents[i]);
  }
  CHECK(ReadFile(ro.target + proc) == proc_text);
}

TEST_CASE("the tree does not depend on how many threads walk, read and store", "[engine]") {
  TempDir dir;
  std::string src = dir.path + "/src";
  // Deep and wide: folders finish in any order when walked in parallel.
  for (int a = 0; a < 6; ++a) {
    for (int b = 0; b < 5; ++b) {
      std::string folder = src + "/d" + std::to_string(a) + "/e" + std::to_string(b) + "/f";
      fs::create_directories(folder);
      for (int f = 0; f < 4; ++f) {
        WriteFile(folder + "/file" + std::to_string(f), std::string(100 + 37 * f, static_cast<char>('a' + a + b)));
      }
    }
  }
  WriteFile(src + "/d0/unreadable", "secret");
  ::chmod((src + "/d0/unreadable").c_str(), 0);
  // Access times later than modification times, so that relatime leaves
  // them alone when the backups read: otherwise a folder made and listed
  // within one clock tick has its atime moved by the next run's listing,
  // and the trees differ for a reason that has nothing to do with threads.
  timespec times[2];
  ::clock_gettime(CLOCK_REALTIME, &times[0]);
  times[1] = times[0];
  times[1].tv_sec -= 3600;
  std::vector<std::string> all = {src};
  for (const auto& e : fs::recursive_directory_iterator(src)) all.push_back(e.path().string());
  for (const auto& p : all) REQUIRE(::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
  bool root = ::geteuid() == 0;  // root reads it anyway
  std::vector<Id> trees;
  std::vector<uint64_t> dirs_unmodified, dirs_counted;
  auto repo = NewRepo(dir.path + "/repo");
  ChunkerTables tables(repo->config().chunker_polynomial);
  for (size_t workers : {1, 3, 8}) {
    BackupOptions opts;
    opts.targets = {src};
    opts.hostname = "test";
    opts.force = workers == 1;
    opts.walk_workers = workers;
    opts.file_workers = workers;
    opts.blob_workers = workers;
    auto result = Backup(*repo, tables, opts);
    REQUIRE(result.ok());
    CHECK(result->warnings.size() == (root ? 0u : 1u));
    CHECK(result->summary.total_files_processed == 6 * 5 * 4 + (root ? 1 : 0));
    auto snap = repo->LoadSnapshot(result->summary.snapshot_id);
    REQUIRE(snap.ok());
    // The snapshot records the run as restic 0.17 and later do.
    CHECK(snap->extra_json.rfind(std::string("\"program_version\":\"") + kProgramVersion + "\",\"summary\":{", 0) == 0);
    CHECK(snap->extra_json.find(",\"total_files_processed\":" +
                                std::to_string(result->summary.total_files_processed) + ",") != std::string::npos);
    // Compare the tree of src itself: the folders above it (/tmp, ...)
    // are in the snapshot too, and other processes change their times.
    Id tree = snap->tree;
    for (const auto& part : fs::path(src)) {
      if (part == "/") continue;
      auto t = repo->LoadTree(tree);
      REQUIRE(t.ok());
      auto it = std::find_if(t->nodes.begin(), t->nodes.end(), [&](const Node& n) { return n.name == part.string(); });
      REQUIRE(it != t->nodes.end());
      REQUIRE(it->subtree);
      tree = *it->subtree;
    }
    trees.push_back(tree);
    dirs_unmodified.push_back(result->summary.dirs_unmodified);
    dirs_counted.push_back(result->summary.dirs_new + result->summary.dirs_changed +
                           result->summary.dirs_unmodified);
  }
  CHECK(trees[0] == trees[1]);
  CHECK(trees[1] == trees[2]);
  // Every folder counts once, as restic counts them: src, the 66 below it
  // and the ones above it that lead to it (/tmp, ...; not the root).
  const fs::path src_path(src);
  const uint64_t above = static_cast<uint64_t>(std::distance(src_path.begin(), src_path.end())) - 2;
  for (uint64_t counted : dirs_counted) CHECK(counted == 67 + above);
  // Later runs use the first as parent: src and every folder below it are
  // unchanged (1 + d* 6 + e* 30 + f 30); other processes may change the
  // folders above.
  CHECK(dirs_unmodified[1] >= 67);
  CHECK(dirs_unmodified[2] >= 67);
}

namespace {

// A local backend whose pack writes fail once `allowed` packs are written.
class FailingPackBackend : public LocalBackend {
 public:
  FailingPackBackend(std::string root, int allowed) : LocalBackend(std::move(root)), allowed_(allowed) {}
  Status Write(FileType type, const std::string& name, ByteView data) override {
    if (type == FileType::kPack && allowed_-- <= 0) return IOError("disk full writing data/" + name);
    return LocalBackend::Write(type, name, data);
  }
  // Packs upload from their files: through the base's mapping, to Write.
  Status WriteFromFile(FileType type, const std::string& name, int fd, uint64_t size) override {
    return Backend::WriteFromFile(type, name, fd, size);
  }

 private:
  std::atomic<int> allowed_;
};

}  // namespace

TEST_CASE("a storage error deep in the walk fails the backup with that error", "[engine]") {
  TempDir dir;
  std::string src = dir.path + "/src";
  for (int a = 0; a < 4; ++a) {
    std::string folder = src + "/a" + std::to_string(a) + "/b/c";
    fs::create_directories(folder);
    for (int f = 0; f < 20; ++f) {
      Bytes random = RandomBytes(3000 + f);  // incompressible: packs fill during the walk
      WriteFile(folder + "/f" + std::to_string(f), std::string(random.begin(), random.end()));
    }
  }
  InitOptions o;
  o.chunker_polynomial = 0x3DA3358B4DC173;
  o.kdf = {1024, 8, 1};
  std::string path = dir.path + "/repo";
  REQUIRE(Repository::Init(std::make_unique<LocalBackend>(path), "pw", o).ok());
  auto repo = Repository::Open(std::make_unique<FailingPackBackend>(path, 1), "pw");
  REQUIRE(repo.ok());
  (*repo)->set_pack_size(4000);  // packs are written while folders are still being walked
  ChunkerTables tables((*repo)->config().chunker_polynomial);
  BackupOptions opts;
  opts.targets = {src};
  opts.hostname = "test";
  auto result = Backup(**repo, tables, opts);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().message().find("disk full writing data/") != std::string::npos);
}

// The node of `path` (absolute, as backed up) in snapshot `id`.
static Node NodeAt(Repository& repo, const Id& snapshot_id, const std::string& path) {
  auto snapshot = repo.LoadSnapshot(snapshot_id);
  REQUIRE(snapshot.ok());
  Id tree_id = snapshot->tree;
  Node found;
  for (const auto& part : fs::path(path).relative_path()) {
    auto tree = repo.LoadTree(tree_id);
    REQUIRE(tree.ok());
    auto it = std::find_if(tree->nodes.begin(), tree->nodes.end(),
                           [&](const Node& n) { return n.name == part.string(); });
    REQUIRE(it != tree->nodes.end());
    found = *it;
    if (it->subtree) tree_id = *it->subtree;
  }
  return found;
}

static std::map<std::string, std::string> XattrsOf(const Node& node) {
  std::map<std::string, std::string> out;
  for (const auto& x : node.extended_attributes) out[x.name] = std::string(x.value.begin(), x.value.end());
  return out;
}

// Unchanged entries take their xattrs from the parent snapshot (their ctime
// says none changed); a changed xattr changes the ctime and is read again.
TEST_CASE("xattrs follow the files across backups with a parent", "[engine]") {
  TempDir dir;
  std::string src = dir.path + "/src";
  fs::create_directories(src + "/sub");
  WriteFile(src + "/sub/f", "data");
  auto set = [](const std::string& path, const std::string& name, const std::string& value) {
    return ::lsetxattr(path.c_str(), name.c_str(), value.data(), value.size(), 0) == 0;
  };
  REQUIRE(set(src + "/sub/f", "user.a", "1"));
  REQUIRE(set(src + "/sub", "user.d", "x"));

  auto repo = NewRepo(dir.path + "/repo");
  ChunkerTables tables(repo->config().chunker_polynomial);
  BackupOptions opts;
  opts.targets = {src};
  opts.hostname = "test";
  auto backup = [&] {
    auto r = Backup(*repo, tables, opts);
    REQUIRE(r.ok());
    return r->summary.snapshot_id;
  };
  Id first = backup();
  Id second = backup();
  using Map = std::map<std::string, std::string>;
  CHECK(XattrsOf(NodeAt(*repo, second, src + "/sub/f")) == Map{{"user.a", "1"}});
  CHECK(XattrsOf(NodeAt(*repo, second, src + "/sub")) == Map{{"user.d", "x"}});
  CHECK(NodeAt(*repo, second, src + "/sub").subtree == NodeAt(*repo, first, src + "/sub").subtree);

  REQUIRE(set(src + "/sub/f", "user.a", "2"));
  REQUIRE(set(src + "/sub", "user.e", "y"));
  Id third = backup();
  CHECK(XattrsOf(NodeAt(*repo, third, src + "/sub/f")) == Map{{"user.a", "2"}});
  CHECK(XattrsOf(NodeAt(*repo, third, src + "/sub")) == Map{{"user.d", "x"}, {"user.e", "y"}});
}
