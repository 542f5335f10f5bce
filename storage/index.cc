#include "storage/index.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <new>
#include <type_traits>

namespace stash {
namespace {

size_t PageSize() {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

size_t BucketOf(const Id& id) { return id.bytes[0]; }

template <typename E>
const E* SearchSorted(const E* first, const E* last, const Id& id) {
  auto it = std::lower_bound(first, last, id, [](const E& e, const Id& key) { return e.id < key; });
  return it != last && it->id == id ? it : nullptr;
}

// The entry for `id` in a table's buckets or tail, or nullptr.
template <typename Table>
auto FindIn(const Table& table, const Id& id) {
  const auto& bucket = table.buckets[BucketOf(id)];
  if (auto* e = SearchSorted(bucket.begin(), bucket.end(), id)) return e;
  return SearchSorted(table.tail.begin(), table.tail.end(), id);
}

// Where `e` (found in `table`) stands among all of the table's entries.
template <typename Table, typename E>
size_t PositionIn(const Table& table, const E* e) {
  size_t b = BucketOf(e->id);
  const auto& bucket = table.buckets[b];
  if (e >= bucket.begin() && e < bucket.end()) return table.before[b] + static_cast<size_t>(e - bucket.begin());
  return table.before[Index::kBuckets] + static_cast<size_t>(e - table.tail.begin());
}

// Merges sorted `add` into sorted `into`, in place: `into` grows, then is
// filled from its end, so no element is held twice.
template <typename E>
void MergeInto(PageArray<E>& into, const E* add, size_t n) {
  size_t old = into.size();
  into.resize(old + n);
  E* d = into.data();
  size_t i = old, j = n, k = old + n;
  while (j > 0) {
    if (i > 0 && add[j - 1].id < d[i - 1].id) {
      d[--k] = d[--i];
    } else {
      d[--k] = add[--j];
    }
  }
}

// Moves the tail into the buckets, each grown in place.
template <typename Table>
void MergeTail(Table& table) {
  const auto* from = table.tail.begin();
  while (from != table.tail.end()) {
    size_t b = BucketOf(from->id);
    const auto* to = from;
    while (to != table.tail.end() && BucketOf(to->id) == b) ++to;
    MergeInto(table.buckets[b], from, static_cast<size_t>(to - from));
    from = to;
  }
  table.tail.clear();
  for (size_t b = 0; b < Index::kBuckets; ++b) table.before[b + 1] = table.before[b] + table.buckets[b].size();
}

template <typename Table>
size_t TableBytes(const Table& table) {
  size_t bytes = table.tail.capacity_bytes();
  for (const auto& bucket : table.buckets) bytes += bucket.capacity_bytes();
  return bytes;
}

}  // namespace

template <typename T>
void PageArray<T>::resize(size_t n) {
  static_assert(std::is_trivially_copyable_v<T>);
  if (n == 0) {
    Release();
    return;
  }
  size_t page = PageSize();
  size_t want = (n * sizeof(T) + page - 1) / page * page;
  if (want != bytes_) {
    void* p = data_ ? mremap(data_, bytes_, want, MREMAP_MAYMOVE)
                    : mmap(nullptr, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    data_ = static_cast<T*>(p);
    bytes_ = want;
  }
  size_ = n;
}

template <typename T>
void PageArray<T>::Release() {
  if (data_) munmap(data_, bytes_);
  data_ = nullptr;
  size_ = 0;
  bytes_ = 0;
}

template class PageArray<Index::Entry>;
template class PageArray<Index::IdEntry>;

static_assert(Index::kEntryBytes == 48, "an index entry is 48 bytes");
static_assert(Index::kIdBytes == 32, "an id-only entry is 32 bytes");

// Sorts the pack's new entries, keeps the first of each id (a pack may list
// a blob twice), merges them into the tail and the tail into the buckets
// once it is large. Returns how many were added.
template <typename E>
size_t Index::AddFresh(Table<E>& table, size_t count, std::vector<E> fresh) {
  if (fresh.empty()) return 0;
  std::stable_sort(fresh.begin(), fresh.end(), [](const E& a, const E& b) { return a.id < b.id; });
  fresh.erase(std::unique(fresh.begin(), fresh.end(), [](const E& a, const E& b) { return a.id == b.id; }),
              fresh.end());
  MergeInto(table.tail, fresh.data(), fresh.size());
  if (table.tail.size() >= std::max<size_t>(kBuckets * 16, (count + fresh.size()) / 16)) MergeTail(table);
  return fresh.size();
}

uint32_t Index::PackNumber(const Id& pack) {
  auto [it, inserted] = pack_numbers_.try_emplace(pack, static_cast<uint32_t>(packs_.size()));
  if (inserted) {
    packs_.push_back(pack);
    extents_.emplace_back();
  }
  return it->second;
}

uint32_t Index::NotePack(const Id& pack, const std::vector<PackedBlob>& blobs) {
  uint32_t number = PackNumber(pack);
  PackExtent& extent = extents_[number];
  for (const auto& b : blobs) {
    extent.blobs_end = std::max<uint64_t>(extent.blobs_end, uint64_t{b.offset} + b.length);
    extent.has_data |= b.type == BlobType::kData;
  }
  return number;
}

std::optional<Index::PackExtent> Index::Extent(const Id& pack) const {
  auto it = pack_numbers_.find(pack);
  if (it == pack_numbers_.end()) return std::nullopt;
  return extents_[it->second];
}

void Index::AddLocated(BlobType type, uint32_t pack, const std::vector<PackedBlob>& blobs) {
  Table<Entry>& table = TableFor(type);
  std::vector<Entry> fresh;
  for (const auto& b : blobs) {
    if (b.type != type || FindIn(table, b.id)) continue;
    if (type == BlobType::kTree && FindIn(new_tree_ids_, b.id)) continue;
    fresh.push_back(Entry{b.id, pack, b.offset, b.length, b.uncompressed_length});
  }
  size_t t = type == BlobType::kTree ? 1 : 0;
  count_[t] += AddFresh(table, count_[t], std::move(fresh));
}

void Index::AddIds(BlobType type, Table<IdEntry>& table, size_t& count, const std::vector<PackedBlob>& blobs) {
  std::vector<IdEntry> fresh;
  for (const auto& b : blobs) {
    if (b.type != type || FindIn(table, b.id)) continue;
    if (type == BlobType::kTree && FindIn(TableFor(type), b.id)) continue;
    fresh.push_back(IdEntry{b.id});
  }
  count += AddFresh(table, count, std::move(fresh));
}

void Index::AddPack(const Id& pack, const std::vector<PackedBlob>& blobs) {
  uint32_t number = NotePack(pack, blobs);
  if (IdsOnly(BlobType::kData)) {
    AddIds(BlobType::kData, data_ids_, count_[0], blobs);
  } else {
    AddLocated(BlobType::kData, number, blobs);
  }
  AddLocated(BlobType::kTree, number, blobs);
}

void Index::AddNewPack(const Id& pack, const std::vector<PackedBlob>& blobs) {
  if (detail_ != IndexDetail::kDataIdsOnly) return AddPack(pack, blobs);
  NotePack(pack, blobs);  // listed among the packs all the same
  AddIds(BlobType::kData, data_ids_, count_[0], blobs);
  AddIds(BlobType::kTree, new_tree_ids_, new_tree_ids_count_, blobs);
}

std::optional<size_t> Index::Ordinal(BlobType type, const Id& id) const {
  size_t base = type == BlobType::kTree ? count_[0] : 0;
  if (IdsOnly(type)) {
    const IdEntry* e = FindIn(data_ids_, id);
    if (!e) return std::nullopt;
    return base + PositionIn(data_ids_, e);
  }
  if (const Entry* e = FindIn(TableFor(type), id)) return base + PositionIn(TableFor(type), e);
  if (type != BlobType::kTree) return std::nullopt;
  const IdEntry* e = FindIn(new_tree_ids_, id);
  if (!e) return std::nullopt;
  return base + count_[1] + PositionIn(new_tree_ids_, e);
}

std::optional<BlobLocation> Index::Lookup(BlobType type, const Id& id) const {
  if (IdsOnly(type)) return std::nullopt;
  const Entry* e = FindIn(TableFor(type), id);
  if (!e) return std::nullopt;
  return BlobLocation{packs_[e->pack], PackedBlob{type, id, e->offset, e->length, e->uncompressed_length}};
}

bool Index::Has(BlobType type, const Id& id) const {
  if (IdsOnly(type)) return FindIn(data_ids_, id) != nullptr;
  if (FindIn(TableFor(type), id)) return true;
  return type == BlobType::kTree && FindIn(new_tree_ids_, id);
}

size_t Index::MemoryBytes() const {
  size_t bytes = packs_.capacity() * sizeof(Id) + extents_.capacity() * sizeof(PackExtent) +
                 pack_numbers_.size() * (sizeof(Id) + sizeof(uint32_t) + 2 * sizeof(void*)) +
                 pack_numbers_.bucket_count() * sizeof(void*);
  for (const auto& table : tables_) bytes += TableBytes(table);
  return bytes + TableBytes(data_ids_) + TableBytes(new_tree_ids_);
}

}  // namespace stash
