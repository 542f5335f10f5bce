#include "storage/index.h"

#include <algorithm>

namespace stash {

static_assert(Index::kEntryBytes == 48, "an index entry is 48 bytes");
static_assert(Index::kIdBytes == 32, "an id-only entry is 32 bytes");

Index::Index(IndexDetail detail, size_t spill_above) : detail_(detail) {
  for (auto& table : tables_) table.SpillAbove(spill_above);
  data_ids_.SpillAbove(spill_above);
  new_tree_ids_.SpillAbove(spill_above);
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
  BlobTable<Entry>& table = TableFor(type);
  std::vector<Entry> fresh;
  for (const auto& b : blobs) {
    if (b.type != type || table.Contains(b.id)) continue;
    if (type == BlobType::kTree && new_tree_ids_.Contains(b.id)) continue;
    fresh.push_back(Entry{b.id, pack, b.offset, b.length, b.uncompressed_length});
  }
  table.Add(std::move(fresh));
}

void Index::AddIds(BlobType type, BlobTable<IdEntry>& table, const std::vector<PackedBlob>& blobs) {
  std::vector<IdEntry> fresh;
  for (const auto& b : blobs) {
    if (b.type != type || table.Contains(b.id)) continue;
    if (type == BlobType::kTree && TableFor(type).Contains(b.id)) continue;
    fresh.push_back(IdEntry{b.id});
  }
  table.Add(std::move(fresh));
}

void Index::AddPack(const Id& pack, const std::vector<PackedBlob>& blobs) {
  uint32_t number = NotePack(pack, blobs);
  if (IdsOnly(BlobType::kData)) {
    AddIds(BlobType::kData, data_ids_, blobs);
  } else {
    AddLocated(BlobType::kData, number, blobs);
  }
  AddLocated(BlobType::kTree, number, blobs);
}

void Index::AddNewPack(const Id& pack, const std::vector<PackedBlob>& blobs) {
  if (detail_ != IndexDetail::kDataIdsOnly) return AddPack(pack, blobs);
  NotePack(pack, blobs);  // listed among the packs all the same
  AddIds(BlobType::kData, data_ids_, blobs);
  AddIds(BlobType::kTree, new_tree_ids_, blobs);
}

std::optional<size_t> Index::Ordinal(BlobType type, const Id& id) const {
  if (IdsOnly(type)) return data_ids_.Position(id);
  size_t base = type == BlobType::kTree ? DataCount() : 0;
  if (auto p = TableFor(type).Position(id)) return base + *p;
  if (type != BlobType::kTree) return std::nullopt;
  auto p = new_tree_ids_.Position(id);
  if (!p) return std::nullopt;
  return base + tables_[1].size() + *p;
}

std::optional<BlobLocation> Index::Lookup(BlobType type, const Id& id) const {
  if (IdsOnly(type)) return std::nullopt;
  auto e = TableFor(type).Find(id);
  if (!e) return std::nullopt;
  return BlobLocation{packs_[e->pack], PackedBlob{type, id, e->offset, e->length, e->uncompressed_length}};
}

bool Index::Has(BlobType type, const Id& id) const {
  if (IdsOnly(type)) return data_ids_.Contains(id);
  if (TableFor(type).Contains(id)) return true;
  return type == BlobType::kTree && new_tree_ids_.Contains(id);
}

size_t Index::MemoryBytes() const {
  size_t bytes = packs_.capacity() * sizeof(Id) + extents_.capacity() * sizeof(PackExtent) +
                 pack_numbers_.size() * (sizeof(Id) + sizeof(uint32_t) + 2 * sizeof(void*)) +
                 pack_numbers_.bucket_count() * sizeof(void*);
  for (const auto& table : tables_) bytes += table.MemoryBytes();
  return bytes + data_ids_.MemoryBytes() + new_tree_ids_.MemoryBytes();
}

}  // namespace stash
