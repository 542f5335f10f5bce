// Checker, index and pack listing phases, and the --read-data-subset rules.
// The structure check is in checker_trees.cc, reading packs in
// checker_read.cc.
#include "engine/checker.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <random>
#include <tuple>

#include "storage/compression.h"

namespace stash {
namespace {

// Checker::buckets_ has one bucket per (type, first two bytes of id).
constexpr size_t kBucketsPerType = 1 << 16;

size_t BucketOf(BlobType type, const Id& id) {
  return static_cast<size_t>(type) * kBucketsPerType + (size_t{id.bytes[0]} << 8 | id.bytes[1]);
}

// Blobs sorted by offset must tile the pack's data from offset 0: restic
// computes a pack's size from its entries and reads blobs back to back.
bool Contiguous(const std::vector<PackedBlob>& sorted) {
  uint64_t end = 0;
  for (const auto& b : sorted) {
    if (b.offset != end) return false;
    end = uint64_t{b.offset} + b.length;
  }
  return true;
}

// Go's strconv.ParseUint(s, 10, 64): decimal digits only.
std::optional<uint64_t> ParseDecimal(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// "1/2" -> {1, 2}; nullopt unless every '/'-separated part is a number.
std::optional<std::vector<uint64_t>> ParseNumberList(std::string_view s) {
  std::vector<uint64_t> out;
  for (size_t start = 0;;) {
    size_t slash = s.find('/', start);
    auto n = ParseDecimal(s.substr(start, slash == s.npos ? s.npos : slash - start));
    if (!n) return std::nullopt;
    out.push_back(*n);
    if (slash == s.npos) return out;
    start = slash + 1;
  }
}

std::optional<double> ParsePercent(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || std::isnan(v)) {
    return std::nullopt;
  }
  return v;
}

// restic's parseSizeStr: a decimal number with an optional unit suffix
// b, k, m, g, t (either case, 1024-based). Negative values parse (and are
// refused by the caller, with restic's message).
std::optional<int64_t> ParseSize(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int shift = -1;  // no unit suffix: the whole text is the number
  switch (s.back()) {
    case 'b': case 'B': shift = 0; break;
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
  }
  if (shift >= 0) s.remove_suffix(1);
  uint64_t unit = uint64_t{1} << std::max(shift, 0);
  bool negative = !s.empty() && s[0] == '-';
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  auto n = ParseDecimal(s);
  if (!n || *n > uint64_t{INT64_MAX} / unit) return std::nullopt;
  int64_t v = static_cast<int64_t>(*n * unit);
  return negative ? -v : v;
}

}  // namespace

void CheckFindings::Append(CheckFindings other) {
  for (auto& e : other.errors) errors.push_back(std::move(e));
  for (auto& n : other.notes) notes.push_back(std::move(n));
}

Result<ReadDataSubset> ParseReadDataSubset(std::string_view text) {
  const Error invalid =
      Invalid("check flag --read-data-subset has invalid value, please see documentation");
  ReadDataSubset s;
  if (auto parts = ParseNumberList(text)) {
    if (parts->size() != 2) return invalid;
    if ((*parts)[0] == 0 || (*parts)[1] == 0 || (*parts)[0] > (*parts)[1]) {
      return Invalid("check flag --read-data-subset=n/t values must be positive integers, "
                     "and n <= t, e.g. --read-data-subset=1/2");
    }
    // Groups are taken by the first byte of the pack id.
    if ((*parts)[1] > 256) return Invalid("check flag --read-data-subset=n/t t must be at most 256");
    s.kind = ReadDataSubset::Kind::kGroup;
    s.group = static_cast<uint32_t>((*parts)[0]);
    s.groups = static_cast<uint32_t>((*parts)[1]);
  } else if (text.ends_with('%')) {
    auto p = ParsePercent(text.substr(0, text.size() - 1));
    if (!p) return invalid;
    if (*p <= 0 || *p > 100) {
      return Invalid("check flag --read-data-subset=x% x must be above 0.0% and at most 100.0%");
    }
    s.kind = ReadDataSubset::Kind::kPercent;
    s.percent = *p;
  } else {
    auto n = ParseSize(text);
    if (!n) return invalid;
    if (*n <= 0) return Invalid("check flag --read-data-subset=n n must be above 0");
    s.kind = ReadDataSubset::Kind::kBytes;
    s.bytes = static_cast<uint64_t>(*n);
  }
  return s;
}

Result<Bytes> OpenPackedBlob(const CryptoKey& key, ByteView sealed, const PackedBlob& blob) {
  STASH_ASSIGN_OR_RETURN(Bytes plain, Open(key, sealed));
  if (blob.compressed()) {
    auto unpacked = ZstdDecompress(plain, blob.uncompressed_length);
    if (!unpacked.ok()) return unpacked.error().Wrap("decompressing");
    plain = std::move(*unpacked);
  }
  Id got = Sha256(plain);
  if (got != blob.id) {
    return Corrupt("content does not match its id (sha256 is " + got.Hex() + ")");
  }
  return plain;
}

// ---- Phase 1: index files ----

CheckFindings Checker::LoadIndex() {
  CheckFindings out;
  packs_.clear();
  entries_ = {};
  buckets_ = {};
  by_pack_ = {};
  used_ = {};
  missing_trees_.clear();
  auto files = repo_.backend().List(FileType::kIndex);
  if (!files.ok()) {
    out.errors.push_back("listing index files: " + files.error().message());
    return out;
  }
  std::sort(files->begin(), files->end(), [](auto& a, auto& b) { return a.name < b.name; });
  // An entry takes at least 32 stored bytes (its id, 64 random hex digits,
  // does not compress below that), so this is room for all of them. What is
  // reserved and never filled costs address space only, not memory, and
  // the array never has to grow (and briefly double) while it fills.
  uint64_t stored = 0;
  for (const auto& f : *files) stored += f.size;
  entries_.reserve(static_cast<size_t>(std::min<uint64_t>(stored / 32 + 1024, uint64_t{1} << 31)));
  std::unordered_map<Id, uint32_t> numbers;  // pack id -> its place in packs_
  std::vector<Id> ids;
  ids.reserve(files->size());
  for (const auto& f : *files) ids.push_back(*Id::FromHex(f.name));
  repo_.LoadIndexFiles(ids, [&](const Id& id, Result<IndexFile>&& decoded) {
    if (!decoded.ok()) {
      out.errors.push_back(decoded.error().message());  // names index/<id>
      return;
    }
    if (decoded->old_format) out.notes.push_back("index " + id.Hex() + " has old format");
    AddIndexFile(id, *decoded, numbers);
  });
  FinishPackEntries(out);
  return out;
}

void Checker::AddIndexFile(const Id& index_id, const IndexFile& file,
                           std::unordered_map<Id, uint32_t>& numbers) {
  for (const auto& pack : file.packs) {
    // A pack listed without blobs has no size restic could check; like
    // restic, treat it as not indexed at all.
    if (pack.blobs.empty()) continue;
    auto [it, inserted] = numbers.try_emplace(pack.id, static_cast<uint32_t>(packs_.size()));
    if (inserted) packs_.push_back(PackInfo{pack.id, {}, 0, 0, 0});
    PackInfo& info = packs_[it->second];
    if (info.index_files.empty() || info.index_files.back() != index_id) {
      info.index_files.push_back(index_id);
    }
    for (const auto& b : pack.blobs) {
      entries_.push_back(Entry{b.id, it->second << 1 | static_cast<uint32_t>(b.type), b.offset,
                               b.length, b.uncompressed_length});
    }
  }
}

// Sorts the packs by id and the entries by blob, removes exact duplicates
// (the same pack in two index files is legal), groups the entries by pack,
// computes sizes, and notes what restic notes.
void Checker::FinishPackEntries(CheckFindings& out) {
  std::vector<uint32_t> order(packs_.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return packs_[a].id < packs_[b].id; });
  std::vector<uint32_t> renumber(packs_.size());
  std::vector<PackInfo> sorted;
  sorted.reserve(packs_.size());
  for (uint32_t i = 0; i < order.size(); ++i) {
    renumber[order[i]] = i;
    sorted.push_back(std::move(packs_[order[i]]));
  }
  packs_ = std::move(sorted);
  for (auto& e : entries_) e.pack_type = renumber[e.pack()] << 1 | (e.pack_type & 1);
  auto key = [](const Entry& e) {
    return std::tie(e.pack_type, e.id, e.offset, e.length, e.uncompressed_length);
  };
  std::sort(entries_.begin(), entries_.end(), [&](const Entry& a, const Entry& b) {
    if (a.type() != b.type()) return a.type() < b.type();
    if (a.id != b.id) return a.id < b.id;
    return key(a) < key(b);
  });
  entries_.erase(std::unique(entries_.begin(), entries_.end(),
                             [&](const Entry& a, const Entry& b) { return key(a) == key(b); }),
                 entries_.end());
  // Group by pack (a counting sort), then order each pack's entries by offset.
  std::vector<uint32_t> start(packs_.size() + 1, 0);
  for (const auto& e : entries_) ++start[e.pack() + 1];
  for (size_t p = 0; p < packs_.size(); ++p) {
    start[p + 1] += start[p];
    packs_[p].first = start[p];
    packs_[p].count = start[p + 1] - start[p];
  }
  by_pack_.assign(entries_.size(), 0);
  for (uint32_t i = 0; i < entries_.size(); ++i) by_pack_[start[entries_[i].pack()]++] = i;
  for (auto& pack : packs_) {
    auto first = by_pack_.begin() + pack.first;
    std::sort(first, first + pack.count, [&](uint32_t a, uint32_t b) {
      const Entry& x = entries_[a];
      const Entry& y = entries_[b];
      return std::tie(x.offset, x.pack_type, x.id, x.length, x.uncompressed_length) <
             std::tie(y.offset, y.pack_type, y.id, y.length, y.uncompressed_length);
    });
    pack.expected_size = kCipherOverhead + 4;
    bool data = false, tree = false;
    for (uint32_t i = 0; i < pack.count; ++i) {
      const Entry& e = entries_[by_pack_[pack.first + i]];
      pack.expected_size += e.length + (e.uncompressed_length ? kPackCompressedEntrySize : kPackEntrySize);
      (e.type() == BlobType::kTree ? tree : data) = true;
    }
    if (pack.index_files.size() > 1) {
      std::string list;
      for (const auto& i : pack.index_files) list += (list.empty() ? "" : ", ") + i.Hex();
      out.notes.push_back("pack " + pack.id.Hex() + " contained in several indexes: " + list);
    }
    if (data && tree) out.notes.push_back("pack " + pack.id.Hex() + " contains a mix of tree and data blobs");
  }
  used_.assign(entries_.size(), false);
  FillBuckets();
}

void Checker::FillBuckets() {
  buckets_.assign(2 * kBucketsPerType + 1, 0);
  for (const auto& e : entries_) ++buckets_[BucketOf(e.type(), e.id) + 1];
  for (size_t b = 1; b < buckets_.size(); ++b) buckets_[b] += buckets_[b - 1];
}

std::pair<size_t, size_t> Checker::Range(BlobType type, const Id& id) const {
  auto less = [](const Entry& e, const std::pair<BlobType, Id>& k) {
    return e.type() != k.first ? e.type() < k.first : e.id < k.second;
  };
  auto greater = [](const std::pair<BlobType, Id>& k, const Entry& e) {
    return k.first != e.type() ? k.first < e.type() : k.second < e.id;
  };
  auto k = std::make_pair(type, id);
  auto first = entries_.begin(), last = entries_.end();
  if (!buckets_.empty()) {  // FillBuckets ran (not when listing the index failed)
    const size_t bucket = BucketOf(type, id);
    first = entries_.begin() + buckets_[bucket];
    last = entries_.begin() + buckets_[bucket + 1];
  }
  auto lo = std::lower_bound(first, last, k, less);
  auto hi = std::upper_bound(lo, last, k, greater);
  return {static_cast<size_t>(lo - entries_.begin()), static_cast<size_t>(hi - entries_.begin())};
}

const Checker::PackInfo* Checker::FindPack(const Id& id) const {
  auto it = std::lower_bound(packs_.begin(), packs_.end(), id,
                             [](const PackInfo& p, const Id& k) { return p.id < k; });
  return it != packs_.end() && it->id == id ? &*it : nullptr;
}

std::vector<PackedBlob> Checker::PackBlobs(const PackInfo& pack) const {
  std::vector<PackedBlob> blobs;
  blobs.reserve(pack.count);
  for (uint32_t i = 0; i < pack.count; ++i) blobs.push_back(entries_[by_pack_[pack.first + i]].Blob());
  return blobs;
}

// ---- Phase 2: packs in data/ against the index ----

CheckFindings Checker::CheckPacks() {
  CheckFindings out;
  auto listed = repo_.backend().List(FileType::kPack);
  if (!listed.ok()) {
    out.errors.push_back("listing packs: " + listed.error().message());
    return out;
  }
  std::map<Id, uint64_t> on_disk;
  for (const auto& f : *listed) on_disk[*Id::FromHex(f.name)] = f.size;
  for (const auto& pack : packs_) {
    std::string name = "pack " + pack.id.Hex();
    auto it = on_disk.find(pack.id);
    if (it == on_disk.end()) {
      out.errors.push_back(name + ": does not exist");
    } else {
      if (it->second != pack.expected_size) {
        out.errors.push_back(name + ": unexpected file size: got " + std::to_string(it->second) +
                             ", expected " + std::to_string(pack.expected_size));
      }
      on_disk.erase(it);
    }
    if (!Contiguous(PackBlobs(pack))) {
      out.errors.push_back(name + ": index for pack contains gaps / overlapping blobs");
    }
  }
  // Leftovers of an interrupted backup or prune: restic only mentions them.
  for (const auto& [id, size] : on_disk) {
    out.notes.push_back("pack " + id.Hex() + ": not referenced in any index");
  }
  if (!on_disk.empty()) {
    out.notes.push_back(std::to_string(on_disk.size()) +
                        " additional files were found in the repo, which likely contain "
                        "duplicate data. This is non-critical, you can run `stash prune` to "
                        "correct this.");
  }
  return out;
}

uint64_t Checker::TotalPackSize() const {
  uint64_t total = 0;
  for (const auto& pack : packs_) total += pack.expected_size;
  return total;
}

std::vector<Id> Checker::SelectPacks(const ReadDataSubset& subset, uint64_t seed) const {
  std::vector<Id> all;
  for (const auto& pack : packs_) all.push_back(pack.id);
  using Kind = ReadDataSubset::Kind;
  if (subset.kind == Kind::kAll) return all;
  if (subset.kind == Kind::kGroup) {
    std::erase_if(all, [&](const Id& id) { return id.bytes[0] % subset.groups != subset.group - 1; });
    return all;
  }
  double percent = subset.percent;
  if (subset.kind == Kind::kBytes) {
    uint64_t total = TotalPackSize();
    if (total == 0) return {};
    percent = 100.0 * static_cast<double>(std::min(subset.bytes, total)) / static_cast<double>(total);
  }
  // restic: floor(count * percent), but at least one pack.
  auto count = static_cast<size_t>(static_cast<double>(all.size()) * (percent / 100.0));
  if (!all.empty() && count < 1) count = 1;
  std::mt19937_64 rng(seed);
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(std::min(count, all.size()));
  std::sort(all.begin(), all.end());
  return all;
}

}  // namespace stash
