#include "storage/index.h"

#include <algorithm>
#include <iterator>

#include "base/json_util.h"

namespace stash {
namespace {

// The blob or pack id in `v`'s "id" member; nullopt when missing or not hex.
std::optional<Id> IdMember(const rapidjson::Value& v) {
  auto hex = json::String(v, "id");
  if (!hex) return std::nullopt;
  return Id::FromHex(*hex);
}

void AppendBlob(std::string& out, const PackedBlob& b) {
  out += "{\"id\":\"" + b.id.Hex() + "\",\"type\":\"" + BlobTypeName(b.type) +
         "\",\"offset\":" + std::to_string(b.offset) + ",\"length\":" + std::to_string(b.length);
  if (b.compressed()) out += ",\"uncompressed_length\":" + std::to_string(b.uncompressed_length);
  out += "}";
}

Result<PackedBlob> DecodeBlob(const rapidjson::Value& v, int repo_version) {
  PackedBlob b;
  auto id = IdMember(v);
  auto type = json::String(v, "type");
  auto offset = json::Uint(v, "offset");
  auto length = json::Uint(v, "length");
  if (!id || !type || !offset || !length) return Corrupt("blob entry lacks id, type, offset or length");
  if (*type == "data") {
    b.type = BlobType::kData;
  } else if (*type == "tree") {
    b.type = BlobType::kTree;
  } else {
    return Corrupt("invalid blob type \"" + *type + "\"");
  }
  if (*offset > UINT32_MAX || *length > UINT32_MAX || *length < 32) {
    return Corrupt("blob " + id->Hex() + ": offset or length out of range");
  }
  b.id = *id;
  b.offset = static_cast<uint32_t>(*offset);
  b.length = static_cast<uint32_t>(*length);
  if (auto ul = json::Uint(v, "uncompressed_length"); ul && *ul != 0) {
    if (repo_version < 2) {
      return Unsupported("index uses feature not supported by repository version 1");
    }
    if (*ul > UINT32_MAX) return Corrupt("blob " + id->Hex() + ": uncompressed_length out of range");
    b.uncompressed_length = static_cast<uint32_t>(*ul);
  }
  return b;
}

Result<IndexedPack> DecodePack(const rapidjson::Value& v, int repo_version) {
  IndexedPack pack;
  auto id = IdMember(v);
  const auto* blobs = json::Member(v, "blobs");
  if (!id) return Corrupt("pack entry lacks a valid id");
  pack.id = *id;
  if (!blobs || blobs->IsNull()) return pack;
  if (!blobs->IsArray()) return Corrupt("pack " + id->Hex() + ": blobs is not an array");
  for (const auto& b : blobs->GetArray()) {
    auto blob = DecodeBlob(b, repo_version);
    if (!blob.ok()) return blob.error().Wrap("pack " + id->Hex());
    pack.blobs.push_back(*blob);
  }
  return pack;
}

}  // namespace

std::string EncodeIndexFile(const IndexFile& index) {
  std::string out = "{";
  if (!index.supersedes.empty()) {
    out += "\"supersedes\":[";
    for (size_t i = 0; i < index.supersedes.size(); ++i) {
      out += (i ? ",\"" : "\"") + index.supersedes[i].Hex() + "\"";
    }
    out += "],";
  }
  out += "\"packs\":[";
  for (size_t i = 0; i < index.packs.size(); ++i) {
    const auto& p = index.packs[i];
    out += (i ? ",{\"id\":\"" : "{\"id\":\"") + p.id.Hex() + "\",\"blobs\":[";
    for (size_t j = 0; j < p.blobs.size(); ++j) {
      if (j) out += ",";
      AppendBlob(out, p.blobs[j]);
    }
    out += "]}";
  }
  out += "]}\n";
  return out;
}

Result<IndexFile> DecodeIndexFile(ByteView bytes, int repo_version) {
  STASH_ASSIGN_OR_RETURN(auto doc, json::Parse(AsString(bytes), "index"));
  IndexFile index;
  const rapidjson::Value* packs = nullptr;
  if (doc.IsArray()) {
    index.old_format = true;
    packs = &doc;
  } else if (doc.IsObject()) {
    packs = json::Member(doc, "packs");
    if (const auto* sup = json::Member(doc, "supersedes"); sup && sup->IsArray()) {
      for (const auto& s : sup->GetArray()) {
        if (!s.IsString()) return Corrupt("index: invalid supersedes entry");
        auto id = Id::FromHex({s.GetString(), s.GetStringLength()});
        if (!id) return Corrupt("index: invalid supersedes entry");
        index.supersedes.push_back(*id);
      }
    }
  } else {
    return Corrupt("index: not a JSON object or array");
  }
  if (!packs || packs->IsNull()) return index;
  if (!packs->IsArray()) return Corrupt("index: packs is not an array");
  for (const auto& p : packs->GetArray()) {
    STASH_ASSIGN_OR_RETURN(auto pack, DecodePack(p, repo_version));
    index.packs.push_back(std::move(pack));
  }
  return index;
}

namespace {

bool IdLess(const Index::Entry& a, const Index::Entry& b) { return a.id < b.id; }

size_t BucketOf(const Id& id) { return (size_t{id.bytes[0]} << 4) | (id.bytes[1] >> 4); }

const Index::Entry* SearchSorted(const std::vector<Index::Entry>& v, const Id& id) {
  auto it = std::lower_bound(v.begin(), v.end(), id,
                             [](const Index::Entry& e, const Id& key) { return e.id < key; });
  return it != v.end() && it->id == id ? &*it : nullptr;
}

}  // namespace

static_assert(Index::kEntryBytes == 48, "an index entry is 48 bytes");

const Index::Entry* Index::Find(const Table& table, const Id& id) const {
  if (const Entry* e = SearchSorted(table.buckets[BucketOf(id)], id)) return e;
  return SearchSorted(table.tail, id);
}

void Index::AddPack(const Id& pack, const std::vector<PackedBlob>& blobs) {
  auto [it, inserted] = pack_numbers_.try_emplace(pack, static_cast<uint32_t>(packs_.size()));
  if (inserted) packs_.push_back(pack);
  uint32_t number = it->second;
  for (int t = 0; t < 2; ++t) {
    BlobType type = t ? BlobType::kTree : BlobType::kData;
    Table& table = TableFor(type);
    std::vector<Entry> fresh;
    for (const auto& b : blobs) {
      if (b.type != type || Find(table, b.id)) continue;
      fresh.push_back(Entry{b.id, number, b.offset, b.length, b.uncompressed_length});
    }
    if (fresh.empty()) continue;
    // A pack may list a blob twice: the first entry counts.
    std::stable_sort(fresh.begin(), fresh.end(), IdLess);
    fresh.erase(std::unique(fresh.begin(), fresh.end(),
                            [](const Entry& a, const Entry& b) { return a.id == b.id; }),
                fresh.end());
    std::vector<Entry> tail;
    tail.reserve(table.tail.size() + fresh.size());
    std::merge(table.tail.begin(), table.tail.end(), fresh.begin(), fresh.end(),
               std::back_inserter(tail), IdLess);
    table.tail = std::move(tail);
    count_[t] += fresh.size();
    if (table.tail.size() >= std::max<size_t>(kBuckets, count_[t] / 16)) MergeTail(table);
  }
}

// Each bucket is rebuilt at its exact size, one at a time, so the merge
// needs no more than one bucket's worth of memory beyond what is held.
void Index::MergeTail(Table& table) {
  auto from = table.tail.begin();
  for (size_t b = 0; b < kBuckets && from != table.tail.end(); ++b) {
    auto to = from;
    while (to != table.tail.end() && BucketOf(to->id) == b) ++to;
    if (to == from) continue;
    auto& bucket = table.buckets[b];
    std::vector<Entry> merged;
    merged.reserve(bucket.size() + static_cast<size_t>(to - from));
    std::merge(bucket.begin(), bucket.end(), from, to, std::back_inserter(merged), IdLess);
    bucket = std::move(merged);
    from = to;
  }
  table.tail = std::vector<Entry>();
}

std::optional<BlobLocation> Index::Lookup(BlobType type, const Id& id) const {
  const Entry* e = Find(TableFor(type), id);
  if (!e) return std::nullopt;
  return BlobLocation{packs_[e->pack], PackedBlob{type, id, e->offset, e->length, e->uncompressed_length}};
}

bool Index::Has(BlobType type, const Id& id) const { return Find(TableFor(type), id) != nullptr; }

size_t Index::MemoryBytes() const {
  size_t bytes = packs_.capacity() * sizeof(Id) +
                 pack_numbers_.size() * (sizeof(Id) + sizeof(uint32_t) + 2 * sizeof(void*)) +
                 pack_numbers_.bucket_count() * sizeof(void*);
  for (const auto& table : tables_) {
    bytes += table.buckets.capacity() * sizeof(std::vector<Entry>) + table.tail.capacity() * sizeof(Entry);
    for (const auto& bucket : table.buckets) bytes += bucket.capacity() * sizeof(Entry);
  }
  return bytes;
}

}  // namespace stash
