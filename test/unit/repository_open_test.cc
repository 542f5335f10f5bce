// Repository::Open: the requests it makes and the errors it gives.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "storage/backends/local_backend.h"
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
