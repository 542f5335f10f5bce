// The Backend contract (storage/backend.h), checked against one backend.
//
// Every backend runs this same program: the local one directly (no
// settings: a temporary folder), each remote one from its interop test
// against a real or fake server. Settings, all from the environment:
//   CONFORMANCE_REPOSITORY  a restic location; the tests work in a fresh
//                           folder below it. The backend's usual variables
//                           (AWS_*, AZURE_*, B2_*, ...) apply as for the CLI.
//   CONFORMANCE_CACERT      a CA certificate file, as --cacert.
//   CONFORMANCE_AUTH_FAILURE  "VAR=value ..." that make the server refuse
//                           us (a wrong key); REPOSITORY=... replaces the
//                           location. Unset: the kAuth check is not run.
//   CONFORMANCE_IO_FAILURE  the same, for a server that cannot be reached.
//   CONFORMANCE_QUIRKS      known server defects the test allows, by name:
//                           "empty-range" (a server that promises a byte
//                           of a 0-byte file and sends none: kIO),
//                           "range-past-end" (a server that answers ranges
//                           past the end with whatever lies in memory
//                           there, or fails with 500),
//                           "torn-concurrent-writes" (a server that writes
//                           a new file in place, so two uploads of one name
//                           at once can leave a mix of both).
//   CONFORMANCE_LARGE_SIZE  bytes of the "larger than one part" file
//                           (default 6 MiB; lower the backend's part size,
//                           e.g. STASH_AZURE_BLOCK_SIZE, below it).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "crypto/encoding.h"
#include "crypto/id.h"
#include "crypto/random.h"
#include "storage/backends/backend_factory.h"
#include "test/unit/test_util.h"

using namespace stash;

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// The opened backend and how it was opened, shared by all test cases.
struct Target {
  std::string location;  // the fresh folder's location
  BackendOptions options;
  std::unique_ptr<Backend> backend;
};
Target* g_target = nullptr;

Backend& B() { return *g_target->backend; }

std::string RandomName() { return HexEncode(RandomBytes(32)); }

Bytes Pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 31 + (i >> 11));
  return b;
}

std::string Describe(const Status& s) { return s.ok() ? "ok" : s.error().message(); }
template <class T>
std::string Describe(const Result<T>& r) { return r.ok() ? "ok" : r.error().message(); }

// The error kind of a failed call, or "ok".
template <class R>
std::string KindOf(const R& r) { return r.ok() ? "ok" : ErrorKindName(r.error().kind()); }

// A location's folder with `child` appended ("s3:host/bucket/p" →
// "s3:host/bucket/p/child", "azure:c:/" → "azure:c:/child").
std::string ChildLocation(std::string location, const std::string& child) {
  while (!location.empty() && location.back() == '/') location.pop_back();
  return location + "/" + child;
}

// Options whose settings are overridden by "VAR=value ..." pairs; sets
// `location` when REPOSITORY= is among them.
BackendOptions WithOverrides(const BackendOptions& base, const std::string& spec,
                             std::string* location) {
  auto overrides = std::make_shared<std::map<std::string, std::string>>();
  std::istringstream words(spec);
  std::string word;
  while (words >> word) {
    size_t eq = word.find('=');
    if (eq == std::string::npos) continue;
    if (word.substr(0, eq) == "REPOSITORY") *location = word.substr(eq + 1);
    else (*overrides)[word.substr(0, eq)] = word.substr(eq + 1);
  }
  BackendOptions out = base;
  auto env = base.env;
  out.env = [overrides, env](const std::string& name) {
    auto it = overrides->find(name);
    return it != overrides->end() ? it->second : env(name);
  };
  return out;
}

Bytes ReadOk(FileType type, const std::string& name, uint64_t offset = 0, uint64_t length = 0) {
  auto r = B().Read(type, name, offset, length);
  INFO(Describe(r));
  REQUIRE(r.ok());
  return *r;
}

void WriteOk(FileType type, const std::string& name, ByteView data) {
  Status s = B().Write(type, name, data);
  INFO(name << ": " << Describe(s));
  REQUIRE(s.ok());
}

// Runs body(i) for i in [0, n) on `threads` threads.
void Parallel(size_t n, size_t threads, const std::function<void(size_t)>& body) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) body(i);
    });
  }
  for (auto& th : pool) th.join();
}

bool Quirk(const char* name) { return Env("CONFORMANCE_QUIRKS").find(name) != std::string::npos; }

// A read past the end must be kCorrupt, unless the server is known not to
// check ranges (then what it did is reported, not judged).
void ExpectPastEnd(FileType type, const std::string& name, uint64_t offset, uint64_t length) {
  std::string kind = KindOf(B().Read(type, name, offset, length));
  if (kind != "corrupt" && Quirk("range-past-end")) {
    WARN("read at " << offset << "+" << length << " past the end: " << kind
                    << " (the server's known defect)");
    return;
  }
  INFO("read at " << offset << "+" << length);
  CHECK(kind == "corrupt");
}

std::set<std::string> Names(FileType type) {
  auto listed = B().List(type);
  INFO(Describe(listed));
  REQUIRE(listed.ok());
  std::set<std::string> out;
  for (const auto& f : *listed) out.insert(f.name);
  return out;
}

}  // namespace

TEST_CASE("a missing file is kNotFound for Stat, Read and Remove") {
  std::string name = RandomName();
  CHECK(KindOf(B().Stat(FileType::kSnapshot, name)) == "not found");
  CHECK(KindOf(B().Read(FileType::kSnapshot, name)) == "not found");
  CHECK(KindOf(B().Read(FileType::kPack, name, 10, 20)) == "not found");
  CHECK(KindOf(B().Remove(FileType::kSnapshot, name)) == "not found");
  CHECK(Names(FileType::kSnapshot).count(name) == 0);
}

TEST_CASE("a written file can be listed, stated, read in ranges and removed") {
  std::string name = RandomName();
  Bytes data = Pattern(1000, 1);
  WriteOk(FileType::kSnapshot, name, data);
  auto info = B().Stat(FileType::kSnapshot, name);
  REQUIRE(info.ok());
  CHECK(info->name == name);
  CHECK(info->size == 1000);
  CHECK(Names(FileType::kSnapshot).count(name) == 1);
  CHECK(ReadOk(FileType::kSnapshot, name) == data);
  CHECK(ReadOk(FileType::kSnapshot, name, 0, 10) == Bytes(data.begin(), data.begin() + 10));
  CHECK(ReadOk(FileType::kSnapshot, name, 990, 10) == Bytes(data.begin() + 990, data.end()));
  CHECK(ReadOk(FileType::kSnapshot, name, 400) == Bytes(data.begin() + 400, data.end()));
  CHECK(ReadOk(FileType::kSnapshot, name, 999, 0) == Bytes(data.begin() + 999, data.end()));
  SECTION("reading to the end from the end is empty") {
    CHECK(ReadOk(FileType::kSnapshot, name, 1000, 0).empty());
  }
  SECTION("reading past the end is kCorrupt, never a short read") {
    ExpectPastEnd(FileType::kSnapshot, name, 995, 10);
    ExpectPastEnd(FileType::kSnapshot, name, 1000, 1);
    ExpectPastEnd(FileType::kSnapshot, name, 1001, 0);
    ExpectPastEnd(FileType::kSnapshot, name, 5000, 10);
  }
  Status removed = B().Remove(FileType::kSnapshot, name);
  INFO(Describe(removed));
  CHECK(removed.ok());
  CHECK(KindOf(B().Stat(FileType::kSnapshot, name)) == "not found");
  CHECK(KindOf(B().Remove(FileType::kSnapshot, name)) == "not found");
  CHECK(Names(FileType::kSnapshot).count(name) == 0);
}

TEST_CASE("a 0-byte file") {
  std::string name = RandomName();
  WriteOk(FileType::kLock, name, {});
  auto info = B().Stat(FileType::kLock, name);
  REQUIRE(info.ok());
  CHECK(info->size == 0);
  auto listed = B().List(FileType::kLock);
  REQUIRE(listed.ok());
  bool found = false;
  for (const auto& f : *listed) found = found || (f.name == name && f.size == 0);
  CHECK(found);
  CHECK(ReadOk(FileType::kLock, name).empty());
  std::string kind = KindOf(B().Read(FileType::kLock, name, 0, 1));
  if (kind == "I/O error" && Quirk("empty-range")) {
    WARN("a byte of a 0-byte file: kIO (the server's known defect)");
  } else {
    ExpectPastEnd(FileType::kLock, name, 0, 1);
  }
  CHECK(B().Write(FileType::kLock, name, {}).ok());  // the same (empty) bytes again
  CHECK(KindOf(B().Write(FileType::kLock, name, AsBytes("x"))) == "conflict");
  CHECK(B().Remove(FileType::kLock, name).ok());
}

TEST_CASE("writing an existing name: same bytes succeed, other bytes are kConflict") {
  std::string name = RandomName();
  Bytes data = Pattern(300, 2);
  WriteOk(FileType::kIndex, name, data);
  // What a retry after a lost answer looks like to the backend.
  Status again = B().Write(FileType::kIndex, name, data);
  INFO(Describe(again));
  CHECK(again.ok());
  CHECK(KindOf(B().Write(FileType::kIndex, name, Pattern(300, 3))) == "conflict");
  CHECK(KindOf(B().Write(FileType::kIndex, name, Pattern(301, 2))) == "conflict");
  CHECK(KindOf(B().Write(FileType::kIndex, name, {})) == "conflict");
  CHECK(ReadOk(FileType::kIndex, name) == data);
  CHECK(B().Remove(FileType::kIndex, name).ok());
}

TEST_CASE("the config file: listed by itself, and Create refuses an existing repository") {
  CHECK(Names(FileType::kConfig).empty());
  Bytes config = Pattern(200, 4);
  WriteOk(FileType::kConfig, "config", config);
  auto listed = B().List(FileType::kConfig);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].name == "config");
  CHECK((*listed)[0].size == 200);
  CHECK(KindOf(B().Create()) == "conflict");
  CHECK(B().Write(FileType::kConfig, "config", config).ok());
  CHECK(KindOf(B().Write(FileType::kConfig, "config", Pattern(200, 5))) == "conflict");
  CHECK(B().Remove(FileType::kConfig, "config").ok());
  CHECK(Names(FileType::kConfig).empty());
}

TEST_CASE("concurrent writers of one name") {
  constexpr size_t kWriters = 6;
  SECTION("with the same bytes all succeed") {
    std::string name = RandomName();
    Bytes data = Pattern(20000, 6);
    std::vector<std::string> results(kWriters);
    Parallel(kWriters, kWriters, [&](size_t i) {
      results[i] = Describe(B().Write(FileType::kPack, name, data));
    });
    for (const auto& r : results) CHECK(r == "ok");
    CHECK(ReadOk(FileType::kPack, name) == data);
    CHECK(B().Remove(FileType::kPack, name).ok());
  }
  SECTION("with different bytes one wins whole, and the file is a winner's") {
    std::string name = RandomName();
    std::vector<Bytes> datas;
    for (size_t i = 0; i < kWriters; ++i) datas.push_back(Pattern(20000, static_cast<uint8_t>(10 + i)));
    std::vector<Status> results(kWriters);
    Parallel(kWriters, kWriters, [&](size_t i) {
      results[i] = B().Write(FileType::kPack, name, datas[i]);
    });
    Bytes stored = ReadOk(FileType::kPack, name);
    size_t winners = 0;
    bool stored_is_a_winner = false;
    for (size_t i = 0; i < kWriters; ++i) {
      INFO("writer " << i << ": " << Describe(results[i]));
      if (results[i].ok()) {
        ++winners;
        stored_is_a_winner = stored_is_a_winner || stored == datas[i];
      } else {
        CHECK(results[i].error().kind() == ErrorKind::kConflict);
      }
    }
    CHECK(winners >= 1);
    if (winners > 1 && !stored_is_a_winner && Quirk("torn-concurrent-writes")) {
      // Repository files are named by their content, so two writers of one
      // name with different bytes do not happen in a real repository.
      WARN("the stored file mixes several writers' bytes (known server defect)");
      CHECK(stored.size() == datas[0].size());
    } else {
      CHECK(stored_is_a_winner);
    }
    // Stores with a create-only write let exactly one win; S3 and B2 have
    // none every server honours, so a loser may be told "ok" there.
    if (winners > 1) WARN(winners << " writers were told ok (no create-only write here)");
    CHECK(B().Remove(FileType::kPack, name).ok());
  }
}

TEST_CASE("List leaves out names that are not repository files") {
  std::string good = RandomName();
  std::string upper = RandomName();
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper == good) upper[0] = 'A';
  WriteOk(FileType::kIndex, good, AsBytes("good"));
  // Names another program could leave there. A backend may refuse to
  // store some of them (a REST server checks names): then there is
  // nothing to skip.
  std::vector<std::string> junk = {"README", good.substr(0, 63), good + "0", good + ".tmp",
                                   ".tmp-" + good.substr(0, 16), upper};
  // A file in a subfolder of a flat type. REST listings carry names only
  // and the server decides what a folder holds, so not for REST.
  if (!g_target->location.starts_with("rest:")) {
    junk.push_back(RandomName().substr(0, 2) + "/" + RandomName());
  }
  std::vector<std::string> stored;
  for (const auto& name : junk) {
    Status s = B().Write(FileType::kIndex, name, AsBytes("junk"));
    if (s.ok()) stored.push_back(name);
    else WARN("could not store " << name << " (" << Describe(s) << "): not checked");
  }
  auto listed = B().List(FileType::kIndex);
  INFO(Describe(listed));
  REQUIRE(listed.ok());
  std::set<std::string> names;
  for (const auto& f : *listed) names.insert(f.name);
  CHECK(names.count(good) == 1);
  for (const auto& name : stored) {
    INFO("listed junk: " << name);
    CHECK(names.count(name) == 0);
  }
  // Every listed name reads back under that name.
  for (const auto& f : *listed) CHECK(B().Stat(FileType::kIndex, f.name).ok());
  for (const auto& name : stored) CHECK(B().Remove(FileType::kIndex, name).ok());
  CHECK(B().Remove(FileType::kIndex, good).ok());
}

TEST_CASE("List pages through more than 1000 files") {
  constexpr size_t kFiles = 1100;
  std::vector<std::string> names(kFiles);
  for (auto& n : names) n = RandomName();
  std::vector<std::string> failures(kFiles);
  Parallel(kFiles, 8, [&](size_t i) {
    Status s = B().Write(FileType::kKey, names[i], AsBytes(std::to_string(i)));
    if (!s.ok()) failures[i] = s.error().message();
  });
  for (const auto& f : failures) REQUIRE(f == "");
  auto listed = B().List(FileType::kKey);
  INFO(Describe(listed));
  REQUIRE(listed.ok());
  std::map<std::string, uint64_t> sizes;
  for (const auto& f : *listed) sizes[f.name] = f.size;
  CHECK(listed->size() == kFiles);  // no file twice, none missing
  for (size_t i = 0; i < kFiles; ++i) {
    INFO(names[i]);
    REQUIRE(sizes.count(names[i]) == 1);
    CHECK(sizes[names[i]] == std::to_string(i).size());
  }
  Parallel(kFiles, 8, [&](size_t i) {
    Status s = B().Remove(FileType::kKey, names[i]);
    if (!s.ok()) failures[i] = s.error().message();
  });
  for (const auto& f : failures) REQUIRE(f == "");
  CHECK(Names(FileType::kKey).empty());
}

TEST_CASE("a file larger than one upload part") {
  std::string size_text = Env("CONFORMANCE_LARGE_SIZE");
  size_t size = size_text.empty() ? (6u << 20) : std::stoul(size_text);
  std::string name = RandomName();
  Bytes data = Pattern(size, 7);
  WriteOk(FileType::kPack, name, data);
  auto info = B().Stat(FileType::kPack, name);
  REQUIRE(info.ok());
  CHECK(info->size == size);
  CHECK(ReadOk(FileType::kPack, name) == data);
  uint64_t mid = size / 2 - 1000;
  CHECK(ReadOk(FileType::kPack, name, mid, 5000) ==
        Bytes(data.begin() + static_cast<ptrdiff_t>(mid), data.begin() + static_cast<ptrdiff_t>(mid + 5000)));
  CHECK(ReadOk(FileType::kPack, name, size - 7) == Bytes(data.end() - 7, data.end()));
  CHECK(Names(FileType::kPack).count(name) == 1);
  CHECK(B().Remove(FileType::kPack, name).ok());
}

TEST_CASE("failures map onto error kinds") {
  SECTION("refused credentials are kAuth") {
    std::string spec = Env("CONFORMANCE_AUTH_FAILURE");
    if (spec.empty()) {
      WARN("CONFORMANCE_AUTH_FAILURE is unset: kAuth not checked");
      return;
    }
    std::string location = g_target->location;
    BackendOptions options = WithOverrides(g_target->options, spec, &location);
    auto backend = OpenBackend(location, options);
    INFO(Describe(backend));
    REQUIRE(backend.ok());
    auto listed = (*backend)->List(FileType::kSnapshot);
    INFO(Describe(listed));
    CHECK(KindOf(listed) == "authentication failed");
    auto stat = (*backend)->Stat(FileType::kSnapshot, RandomName());
    INFO(Describe(stat));
    CHECK(KindOf(stat) == "authentication failed");
  }
  SECTION("a server that cannot be reached is kIO after the retries") {
    std::string spec = Env("CONFORMANCE_IO_FAILURE");
    if (spec.empty()) {
      WARN("CONFORMANCE_IO_FAILURE is unset: kIO not checked");
      return;
    }
    std::string location = g_target->location;
    BackendOptions options = WithOverrides(g_target->options, spec, &location);
    options.http.retry.max_attempts = 2;
    options.http.retry.base_delay = std::chrono::milliseconds(10);
    auto backend = OpenBackend(location, options);
    INFO(Describe(backend));
    REQUIRE(backend.ok());
    auto stat = (*backend)->Stat(FileType::kSnapshot, RandomName());
    INFO(Describe(stat));
    CHECK(KindOf(stat) == "I/O error");
  }
}

// Removes whatever the tests left in the fresh folder.
void CleanUp(Backend& backend) {
  for (FileType type : {FileType::kKey, FileType::kSnapshot, FileType::kIndex, FileType::kLock,
                        FileType::kPack, FileType::kConfig}) {
    auto listed = backend.List(type);
    if (!listed.ok()) continue;
    for (const auto& f : *listed) (void)backend.Remove(type, f.name);
  }
}

int main(int argc, char** argv) {
  stash::testing::TempDir local;
  Target target;
  std::string base = Env("CONFORMANCE_REPOSITORY");
  if (base.empty()) base = local.path;
  target.location = ChildLocation(base, "conformance-" + HexEncode(RandomBytes(6)));
  target.options = BackendOptionsFromEnvironment();
  target.options.http.ca_file = Env("CONFORMANCE_CACERT");
  auto backend = OpenBackend(target.location, target.options);
  if (!backend.ok()) {
    std::fprintf(stderr, "backend_conformance: %s: %s\n", target.location.c_str(),
                 backend.error().message().c_str());
    return 1;
  }
  target.backend = std::move(*backend);
  Status created = target.backend->Create();
  if (!created.ok()) {
    std::fprintf(stderr, "backend_conformance: create %s: %s\n", target.location.c_str(),
                 created.error().message().c_str());
    return 1;
  }
  std::printf("backend conformance: %s\n", target.location.c_str());
  g_target = &target;
  int failed = Catch::Session().run(argc, argv);
  CleanUp(*target.backend);
  return failed;
}
