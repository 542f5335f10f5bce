// Repository::Open: the requests it makes and the errors it gives.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "crypto/id.h"
#include "storage/backends/local_backend.h"
#include "storage/key_file.h"
#include "storage/repository.h"
#include "test/unit/engine_test_util.h"
#include "test/unit/test_util.h"

using namespace stash;
using namespace stash::testing;

namespace {

// A local backend that counts the requests for the config file.
class ConfigCountingBackend : public LocalBackend {
 public:
  using LocalBackend::LocalBackend;
  Result<FileInfo> Stat(FileType type, const std::string& name) override {
    if (type == FileType::kConfig) ++config_stats;
    return LocalBackend::Stat(type, name);
  }
  Status ReadInto(FileType type, const std::string& name, uint64_t offset, uint64_t length,
                  Bytes& out) override {
    if (type == FileType::kConfig) ++config_reads;
    return LocalBackend::ReadInto(type, name, offset, length, out);
  }
  int config_stats = 0;
  int config_reads = 0;
};

}  // namespace

TEST_CASE("Open asks for the config file once", "[repo]") {
  TempDir dir;
  NewRepo(dir.path);
  auto backend = std::make_unique<ConfigCountingBackend>(dir.path);
  ConfigCountingBackend* counter = backend.get();
  auto repo = Repository::Open(std::move(backend), "pw");
  REQUIRE(repo.ok());
  CHECK(counter->config_stats == 0);
  CHECK(counter->config_reads == 1);
  CHECK((*repo)->config().chunker_polynomial == 0x3DA3358B4DC173);
}

TEST_CASE("Open names a missing repository and a wrong password", "[repo]") {
  TempDir dir;
  SECTION("no config file") {
    auto repo = Repository::Open(std::make_unique<LocalBackend>(dir.path + "/none"), "pw");
    REQUIRE(!repo.ok());
    CHECK(repo.error().kind() == ErrorKind::kNotFound);
    CHECK(repo.error().message() == "no repository at " + dir.path + "/none (config file not found)");
  }
  SECTION("a wrong password") {
    NewRepo(dir.path);
    auto repo = Repository::Open(std::make_unique<LocalBackend>(dir.path), "not it");
    REQUIRE(!repo.ok());
    CHECK(repo.error().kind() == ErrorKind::kAuth);
  }
}

namespace {

// Adds a key for `password` to the repository; returns its id.
std::string AddKey(Repository& repo, std::string_view password) {
  auto key = NewKeyFile(repo.master_key(), password, ScryptParams{1024, 8, 1}, "u", "h");
  REQUIRE(key.ok());
  std::string json = EncodeKeyFile(*key);
  std::string name = Sha256(AsBytes(json)).Hex();
  REQUIRE(repo.backend().Write(FileType::kKey, name, AsBytes(json)).ok());
  return name;
}

}  // namespace

TEST_CASE("Open tries the hinted key first", "[repo]") {
  TempDir dir;
  auto repo = NewRepo(dir.path);
  std::vector<std::string> ids{repo->key_id().Hex()};
  // 18 keys for one password: two past the first must share their first
  // digit, so a hint can be ambiguous without naming the first key.
  for (int i = 0; i < 17; ++i) ids.push_back(AddKey(*repo, "pw"));
  std::sort(ids.begin(), ids.end());
  auto opened_with = [&](std::string_view hint) {
    auto r = Repository::Open(std::make_unique<LocalBackend>(dir.path), "pw", hint);
    REQUIRE(r.ok());
    return (*r)->key_id().Hex();
  };
  CHECK(opened_with("") == ids.front());
  CHECK(opened_with(ids.back()) == ids.back());
  CHECK(opened_with(ids.back().substr(0, 8)) == ids.back());
  CHECK(opened_with(ids[5].substr(0, 8)) == ids[5]);
  SECTION("a hint that names no key, or several, changes nothing") {
    CHECK(opened_with("not-a-key") == ids.front());
    size_t i = 1;
    while (ids[i][0] != ids[i + 1][0]) ++i;
    CHECK(opened_with(ids[i].substr(0, 1)) == ids.front());
  }
  SECTION("a hinted key the password does not open: the others are tried") {
    std::string other = AddKey(*repo, "another password");
    CHECK(opened_with(other) == ids.front());
  }
}
