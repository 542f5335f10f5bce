#include "storage/index.h"

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

void Index::AddPack(const Id& pack, const std::vector<PackedBlob>& blobs) {
  auto [it, inserted] = pack_numbers_.try_emplace(pack, static_cast<uint32_t>(packs_.size()));
  if (inserted) packs_.push_back(pack);
  uint32_t number = it->second;
  for (const auto& b : blobs) {
    MapFor(b.type).try_emplace(b.id, Entry{number, b.offset, b.length, b.uncompressed_length});
  }
}

std::optional<BlobLocation> Index::Lookup(BlobType type, const Id& id) const {
  const auto& map = MapFor(type);
  auto it = map.find(id);
  if (it == map.end()) return std::nullopt;
  const Entry& e = it->second;
  return BlobLocation{packs_[e.pack], PackedBlob{type, id, e.offset, e.length, e.uncompressed_length}};
}

bool Index::Has(BlobType type, const Id& id) const { return MapFor(type).count(id) != 0; }

}  // namespace stash
