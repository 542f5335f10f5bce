#include "storage/blob_table.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>

#include "storage/temp_file.h"

namespace stash {
namespace {

// Sort keys: the whole id for entries, its first 8 bytes for spill keys.
template <typename E>
const Id& KeyOf(const E& e) {
  return e.id;
}
uint64_t KeyOf(const SpillKey& k) { return k.prefix(); }

uint64_t PrefixOf(const Id& id) {
  uint64_t p = 0;
  for (size_t i = 0; i < 8; ++i) p = p << 8 | id.bytes[i];
  return p;
}

// The bucket is the id's first byte either way.
template <typename E>
size_t BucketOf(const E& e) {
  return e.id.bytes[0];
}
size_t BucketOf(const SpillKey& k) { return k.hi >> 24; }

// Merges sorted `add` into sorted `into`, in place: `into` grows, then is
// filled from its end, so no element is held twice.
template <typename S>
void MergeInto(PageArray<S>& into, const S* add, size_t n) {
  size_t old = into.size();
  into.resize(old + n);
  S* d = into.data();
  size_t i = old, j = n, k = old + n;
  while (j > 0) {
    if (i > 0 && KeyOf(add[j - 1]) < KeyOf(d[i - 1])) {
      d[--k] = d[--i];
    } else {
      d[--k] = add[--j];
    }
  }
}

template <typename S>
void CountBefore(SortedBuckets<S>& table) {
  for (size_t b = 0; b < kBlobBuckets; ++b) table.before[b + 1] = table.before[b] + table.buckets[b].size();
}

// Moves the tail into the buckets, each grown in place.
template <typename S>
void MergeTail(SortedBuckets<S>& table) {
  const S* from = table.tail.begin();
  while (from != table.tail.end()) {
    size_t b = BucketOf(*from);
    const S* to = from;
    while (to != table.tail.end() && BucketOf(*to) == b) ++to;
    MergeInto(table.buckets[b], from, static_cast<size_t>(to - from));
    from = to;
  }
  table.tail.clear();
  CountBefore(table);
}

// Adds sorted `fresh` to the tail; merges the tail into the buckets once it
// holds 1/16 of the table (`total` entries with these).
template <typename S>
void AddSorted(SortedBuckets<S>& table, const S* fresh, size_t n, size_t total) {
  MergeInto(table.tail, fresh, n);
  if (table.tail.size() >= std::max<size_t>(kBlobBuckets * 16, total / 16)) MergeTail(table);
}

// Where `s` (an element of `table`) stands among all of the table's.
template <typename S>
size_t PositionIn(const SortedBuckets<S>& table, const S* s) {
  size_t b = BucketOf(*s);
  const auto& bucket = table.buckets[b];
  if (s >= bucket.begin() && s < bucket.end()) return table.before[b] + static_cast<size_t>(s - bucket.begin());
  return table.before[kBlobBuckets] + static_cast<size_t>(s - table.tail.begin());
}

template <typename S>
size_t BytesOf(const SortedBuckets<S>& table) {
  size_t bytes = table.tail.capacity_bytes();
  for (const auto& bucket : table.buckets) bytes += bucket.capacity_bytes();
  return bytes;
}

template <typename E>
const E* SearchEntries(const PageArray<E>& in, const Id& id) {
  auto it = std::lower_bound(in.begin(), in.end(), id, [](const E& e, const Id& key) { return e.id < key; });
  return it != in.end() && it->id == id ? it : nullptr;
}

bool WriteAt(int fd, const void* data, size_t n, uint64_t offset) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = pwrite(fd, p, n, static_cast<off_t>(offset));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
  return true;
}

SpillKey KeyFor(const Id& id, size_t record) {
  uint64_t p = PrefixOf(id);
  return SpillKey{static_cast<uint32_t>(p >> 32), static_cast<uint32_t>(p), static_cast<uint32_t>(record)};
}

}  // namespace

template <typename E>
BlobTable<E>::~BlobTable() {
  if (fd_ >= 0) close(fd_);
}

template <typename E>
void BlobTable<E>::Swap(BlobTable& other) noexcept {
  std::swap(entries_, other.entries_);
  std::swap(keys_, other.keys_);
  std::swap(fd_, other.fd_);
  std::swap(size_, other.size_);
  std::swap(spill_above_, other.spill_above_);
  std::swap(spill_failed_, other.spill_failed_);
}

template <typename E>
size_t BlobTable<E>::Add(std::vector<E> fresh) {
  if (fresh.empty()) return 0;
  std::stable_sort(fresh.begin(), fresh.end(), [](const E& a, const E& b) { return a.id < b.id; });
  fresh.erase(std::unique(fresh.begin(), fresh.end(), [](const E& a, const E& b) { return a.id == b.id; }),
              fresh.end());
  size_t n = fresh.size();
  if (!spilled() && !spill_failed_ && spill_above_ > 0 && size_ + n > spill_above_) Spill();
  bool added = spilled() && AddSpilled(fresh);
  if (spilled() && !added) Unspill();
  if (!added) AddSorted(entries_, fresh.data(), n, size_ + n);
  size_ += n;
  return n;
}

template <typename E>
bool BlobTable<E>::AddSpilled(const std::vector<E>& fresh) {
  if (size_ + fresh.size() > std::numeric_limits<uint32_t>::max()) return false;
  if (!WriteAt(fd_, fresh.data(), fresh.size() * sizeof(E), uint64_t{size_} * sizeof(E))) return false;
  std::vector<SpillKey> keys;
  keys.reserve(fresh.size());
  for (size_t i = 0; i < fresh.size(); ++i) keys.push_back(KeyFor(fresh[i].id, size_ + i));
  AddSorted(keys_, keys.data(), keys.size(), size_ + keys.size());
  return true;
}

// Writes every entry to a new file, record i being the i-th in id order,
// then swaps each bucket for its keys. On any failure nothing changes.
template <typename E>
bool BlobTable<E>::Spill() {
  MergeTail(entries_);
  int fd = OpenUnnamedFile(TempFolder(), "stash-index");
  bool written = fd >= 0;
  for (size_t b = 0; written && b < kBlobBuckets; ++b) {
    const auto& bucket = entries_.buckets[b];
    written = WriteAt(fd, bucket.data(), bucket.size() * sizeof(E), uint64_t{entries_.before[b]} * sizeof(E));
  }
  if (!written) {
    if (fd >= 0) close(fd);
    spill_failed_ = true;
    return false;
  }
  for (size_t b = 0; b < kBlobBuckets; ++b) {
    auto& bucket = entries_.buckets[b];
    keys_.buckets[b].resize(bucket.size());
    for (size_t i = 0; i < bucket.size(); ++i) keys_.buckets[b].data()[i] = KeyFor(bucket.data()[i].id, entries_.before[b] + i);
    bucket.clear();
  }
  CountBefore(keys_);
  fd_ = fd;
  return true;
}

// Reads the file back into memory after a write to it failed (a full
// disk): the table goes on in memory rather than losing entries.
template <typename E>
void BlobTable<E>::Unspill() {
  MergeTail(keys_);
  for (size_t b = 0; b < kBlobBuckets; ++b) {
    auto& keys = keys_.buckets[b];
    auto& bucket = entries_.buckets[b];
    bucket.resize(keys.size());
    size_t kept = 0;
    for (const SpillKey& k : keys) kept += ReadRecord(k.record, bucket.data() + kept) ? 1 : 0;
    bucket.resize(kept);
    std::sort(bucket.data(), bucket.data() + kept, [](const E& x, const E& y) { return x.id < y.id; });
    keys.clear();
  }
  CountBefore(entries_);
  size_ = entries_.before[kBlobBuckets];
  close(fd_);
  fd_ = -1;
  spill_failed_ = true;
}

template <typename E>
bool BlobTable<E>::ReadRecord(uint32_t record, E* out) const {
  uint64_t offset = uint64_t{record} * sizeof(E);
  ssize_t r;
  do {
    r = pread(fd_, out, sizeof(E), static_cast<off_t>(offset));
  } while (r < 0 && errno == EINTR);
  return r == static_cast<ssize_t>(sizeof(E));
}

// The key whose record has `id` (its entry in *out), or nullptr. Keys
// share a prefix about once in 2^56 lookups per bucket entry, so this is
// nearly always one binary search and, for a present id, one read.
template <typename E>
const SpillKey* BlobTable<E>::FindKey(const Id& id, E* out) const {
  uint64_t prefix = PrefixOf(id);
  auto less = [](const SpillKey& k, uint64_t p) { return k.prefix() < p; };
  for (const auto* in : {&keys_.buckets[id.bytes[0]], &keys_.tail}) {
    for (auto it = std::lower_bound(in->begin(), in->end(), prefix, less); it != in->end() && it->prefix() == prefix;
         ++it) {
      if (ReadRecord(it->record, out) && out->id == id) return it;
    }
  }
  return nullptr;
}

template <typename E>
const E* BlobTable<E>::FindEntry(const Id& id) const {
  if (const E* e = SearchEntries(entries_.buckets[id.bytes[0]], id)) return e;
  return SearchEntries(entries_.tail, id);
}

template <typename E>
std::optional<E> BlobTable<E>::Find(const Id& id) const {
  E e;
  if (spilled()) return FindKey(id, &e) ? std::optional<E>(e) : std::nullopt;
  const E* found = FindEntry(id);
  return found ? std::optional<E>(*found) : std::nullopt;
}

template <typename E>
std::optional<size_t> BlobTable<E>::Position(const Id& id) const {
  E e;
  if (spilled()) {
    const SpillKey* k = FindKey(id, &e);
    return k ? std::optional<size_t>(PositionIn(keys_, k)) : std::nullopt;
  }
  const E* found = FindEntry(id);
  return found ? std::optional<size_t>(PositionIn(entries_, found)) : std::nullopt;
}

template <typename E>
size_t BlobTable<E>::MemoryBytes() const {
  return BytesOf(entries_) + BytesOf(keys_);
}

template class BlobTable<LocatedEntry>;
template class BlobTable<IdOnlyEntry>;

static_assert(sizeof(LocatedEntry) == 48, "a located entry is 48 bytes");
static_assert(sizeof(IdOnlyEntry) == 32, "an id-only entry is 32 bytes");
static_assert(sizeof(SpillKey) == 12, "a spill key is 12 bytes");

}  // namespace stash
