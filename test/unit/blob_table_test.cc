// BlobTable spilled to its temporary file answers exactly as in memory,
// also for ids that share the 8 bytes it keeps, and falls back to memory
// when it cannot write the file.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "storage/blob_table.h"
#include "storage/index.h"

using namespace stash;

namespace {

Id RandomId(std::mt19937_64& rng) {
  Id id;
  for (auto& b : id.bytes) b = static_cast<uint8_t>(rng());
  return id;
}

// Ids that agree in their first 8 bytes, so a spilled table must read each
// candidate back to tell them apart.
Id SharedPrefixId(uint8_t first, uint32_t n) {
  Id id;
  id.bytes[0] = first;
  for (size_t i = 1; i < 8; ++i) id.bytes[i] = 0x5a;
  for (size_t i = 0; i < 4; ++i) id.bytes[28 + i] = static_cast<uint8_t>(n >> (8 * i));
  return id;
}

LocatedEntry EntryFor(const Id& id, uint32_t n) { return LocatedEntry{id, n % 7, n * 3, n + 1, n + 2}; }

// Adds `entries` in batches of `batch` to each table.
void Fill(std::vector<BlobTable<LocatedEntry>*> tables, const std::vector<LocatedEntry>& entries, size_t batch) {
  for (size_t i = 0; i < entries.size(); i += batch) {
    std::vector<LocatedEntry> part(entries.begin() + static_cast<long>(i),
                                   entries.begin() + static_cast<long>(std::min(entries.size(), i + batch)));
    for (auto* t : tables) CHECK(t->Add(part) == part.size());
  }
}

// Every entry is found with its own fields, positions are 0..n-1 once
// each, and ids not added are not found.
void CheckAnswers(const BlobTable<LocatedEntry>& t, const std::vector<LocatedEntry>& entries,
                  const std::vector<Id>& absent) {
  REQUIRE(t.size() == entries.size());
  std::vector<bool> seen(entries.size());
  for (const auto& e : entries) {
    auto found = t.Find(e.id);
    REQUIRE(found.has_value());
    CHECK(found->pack == e.pack);
    CHECK(found->offset == e.offset);
    CHECK(found->length == e.length);
    CHECK(found->uncompressed_length == e.uncompressed_length);
    auto p = t.Position(e.id);
    REQUIRE(p.has_value());
    REQUIRE(*p < seen.size());
    CHECK(!seen[*p]);
    seen[*p] = true;
  }
  for (const auto& id : absent) {
    CHECK(!t.Contains(id));
    CHECK(!t.Position(id).has_value());
  }
}

}  // namespace

TEST_CASE("a spilled BlobTable answers as one in memory, in 12 bytes an entry") {
  std::mt19937_64 rng(7);
  std::vector<LocatedEntry> entries;
  for (uint32_t n = 0; n < 100000; ++n) entries.push_back(EntryFor(RandomId(rng), n));
  std::vector<Id> absent;
  for (int i = 0; i < 2000; ++i) absent.push_back(RandomId(rng));

  BlobTable<LocatedEntry> memory, spilled;
  spilled.SpillAbove(3000);
  Fill({&memory, &spilled}, entries, 7000);
  CHECK(!memory.spilled());
  CHECK(spilled.spilled());
  CheckAnswers(memory, entries, absent);
  CheckAnswers(spilled, entries, absent);
  // 48 bytes an entry against 12, and a page or so per bucket either way.
  CHECK(memory.MemoryBytes() >= 100000 * 48);
  CHECK(spilled.MemoryBytes() <= 100000 * 12 + 2 * 256 * 4096);
}

TEST_CASE("a spilled BlobTable tells apart ids that share their first 8 bytes") {
  std::vector<LocatedEntry> entries;
  for (uint32_t n = 0; n < 300; ++n) entries.push_back(EntryFor(SharedPrefixId(0x42, n), n));
  for (uint32_t n = 0; n < 300; ++n) entries.push_back(EntryFor(SharedPrefixId(0x07, n), 1000 + n));
  std::vector<Id> absent = {SharedPrefixId(0x42, 300), SharedPrefixId(0x07, 999999), SharedPrefixId(0x43, 1)};

  BlobTable<LocatedEntry> t;
  t.SpillAbove(100);
  Fill({&t}, entries, 64);  // spills part-way: keys in the buckets and the tail
  REQUIRE(t.spilled());
  CheckAnswers(t, entries, absent);
}

TEST_CASE("a BlobTable stays in memory where no spill file can be made") {
  const char* old = std::getenv("TMPDIR");
  std::string saved = old ? old : "";
  setenv("TMPDIR", "/nonexistent-stash-tmpdir", 1);
  std::mt19937_64 rng(8);
  std::vector<LocatedEntry> entries;
  for (uint32_t n = 0; n < 5000; ++n) entries.push_back(EntryFor(RandomId(rng), n));
  BlobTable<LocatedEntry> t;
  t.SpillAbove(1000);
  Fill({&t}, entries, 500);
  if (old) setenv("TMPDIR", saved.c_str(), 1); else unsetenv("TMPDIR");
  CHECK(!t.spilled());
  CheckAnswers(t, entries, {RandomId(rng)});
}

TEST_CASE("a spilled BlobTable whose file can no longer grow reads it back and goes on in memory") {
  std::mt19937_64 rng(9);
  std::vector<LocatedEntry> entries;
  for (uint32_t n = 0; n < 6000; ++n) entries.push_back(EntryFor(RandomId(rng), n));
  BlobTable<LocatedEntry> t;
  t.SpillAbove(1000);
  // Writes past 128 KiB (about 2,700 entries) fail with EFBIG, as on a
  // full disk; SIGXFSZ would otherwise end the process.
  struct rlimit old_limit;
  REQUIRE(getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
  auto old_handler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old_limit;
  small.rlim_cur = 128 * 1024;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
  Fill({&t}, std::vector<LocatedEntry>(entries.begin(), entries.begin() + 2000), 500);
  bool spilled_before = t.spilled();
  Fill({&t}, std::vector<LocatedEntry>(entries.begin() + 2000, entries.end()), 500);
  setrlimit(RLIMIT_FSIZE, &old_limit);
  signal(SIGXFSZ, old_handler);
  CHECK(spilled_before);
  CHECK(!t.spilled());
  CheckAnswers(t, entries, {RandomId(rng)});
}

TEST_CASE("an Index whose tables spill answers as one held in memory") {
  std::mt19937_64 rng(10);
  auto blobs = [&](BlobType type, size_t n) {
    std::vector<PackedBlob> out;
    for (size_t i = 0; i < n; ++i) out.push_back({type, RandomId(rng), static_cast<uint32_t>(i * 10), 40, 0});
    return out;
  };
  auto loaded = blobs(BlobType::kTree, 3000), saved = blobs(BlobType::kTree, 2000), data = blobs(BlobType::kData, 4000);
  for (IndexDetail detail : {IndexDetail::kLocations, IndexDetail::kDataIdsOnly}) {
    Index memory(detail, 0), spilled(detail, 500);
    for (Index* index : {&memory, &spilled}) {
      for (size_t i = 0; i < loaded.size(); i += 1000) {
        index->AddPack(RandomId(rng), std::vector<PackedBlob>(loaded.begin() + static_cast<long>(i),
                                                              loaded.begin() + static_cast<long>(i + 1000)));
      }
      index->AddNewPack(Id{}, saved);
      index->AddNewPack(RandomId(rng), data);
      index->AddNewPack(RandomId(rng), {saved[3], loaded[4], data[5]});  // none counts twice
    }
    REQUIRE(spilled.BlobCount() == 9000);
    REQUIRE(memory.BlobCount() == 9000);
    std::set<size_t> ordinals;
    for (const auto* set : {&loaded, &saved, &data}) {
      for (const auto& b : *set) {
        CHECK(spilled.Has(b.type, b.id));
        CHECK(spilled.Lookup(b.type, b.id).has_value() == memory.Lookup(b.type, b.id).has_value());
        auto n = spilled.Ordinal(b.type, b.id);
        REQUIRE(n.has_value());
        CHECK(*n < 9000);
        ordinals.insert(*n);
      }
    }
    CHECK(ordinals.size() == 9000);
    for (const auto& b : loaded) CHECK(spilled.Lookup(b.type, b.id)->blob.offset == b.offset);
    CHECK(!spilled.Has(BlobType::kData, loaded[0].id));
    CHECK(!spilled.Has(BlobType::kTree, RandomId(rng)));
  }
}
