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

auto EntryKey(const PackedBlob& b) {
  return std::tie(b.offset, b.type, b.id, b.length, b.uncompressed_length);
}

bool SameEntry(const PackedBlob& a, const PackedBlob& b) { return EntryKey(a) == EntryKey(b); }

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
  tree_copies_.clear();
  data_blobs_.clear();
  auto files = repo_.backend().List(FileType::kIndex);
  if (!files.ok()) {
    out.errors.push_back("listing index files: " + files.error().message());
    return out;
  }
  std::sort(files->begin(), files->end(), [](auto& a, auto& b) { return a.name < b.name; });
  for (const auto& f : *files) {
    Id id = *Id::FromHex(f.name);
    auto plain = repo_.LoadFile(FileType::kIndex, id);
    if (!plain.ok()) {
      out.errors.push_back(plain.error().message());  // already names index/<id>
      continue;
    }
    auto decoded = DecodeIndexFile(*plain, repo_.config().version);
    if (!decoded.ok()) {
      out.errors.push_back("index/" + f.name + ": " + decoded.error().message());
      continue;
    }
    if (decoded->old_format) out.notes.push_back("index " + f.name + " has old format");
    AddIndexFile(id, *decoded);
  }
  FinishPackEntries(out);
  return out;
}

void Checker::AddIndexFile(const Id& index_id, const IndexFile& file) {
  for (const auto& pack : file.packs) {
    // A pack listed without blobs has no size restic could check; like
    // restic, treat it as not indexed at all.
    if (pack.blobs.empty()) continue;
    PackEntry& entry = packs_[pack.id];
    if (entry.index_files.empty() || entry.index_files.back() != index_id) {
      entry.index_files.push_back(index_id);
    }
    for (const auto& b : pack.blobs) {
      entry.blobs.push_back(b);
      if (b.type == BlobType::kData) {
        data_blobs_.insert(b.id);
        continue;
      }
      auto& copies = tree_copies_[b.id];
      bool known = std::any_of(copies.begin(), copies.end(), [&](const BlobLocation& c) {
        return c.pack == pack.id && SameEntry(c.blob, b);
      });
      if (!known) copies.push_back({pack.id, b});
    }
  }
}

// Sorts and deduplicates each pack's entries (the same pack in two index
// files is legal), computes sizes, and notes what restic notes.
void Checker::FinishPackEntries(CheckFindings& out) {
  for (auto& [id, entry] : packs_) {
    auto& blobs = entry.blobs;
    std::sort(blobs.begin(), blobs.end(),
              [](const PackedBlob& a, const PackedBlob& b) { return EntryKey(a) < EntryKey(b); });
    blobs.erase(std::unique(blobs.begin(), blobs.end(), SameEntry), blobs.end());
    entry.expected_size = PackHeaderSize(blobs);
    bool data = false, tree = false;
    for (const auto& b : blobs) {
      entry.expected_size += b.length;
      (b.type == BlobType::kTree ? tree : data) = true;
    }
    if (entry.index_files.size() > 1) {
      std::string list;
      for (const auto& i : entry.index_files) list += (list.empty() ? "" : ", ") + i.Hex();
      out.notes.push_back("pack " + id.Hex() + " contained in several indexes: " + list);
    }
    if (data && tree) out.notes.push_back("pack " + id.Hex() + " contains a mix of tree and data blobs");
  }
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
  for (const auto& [id, entry] : packs_) {
    std::string name = "pack " + id.Hex();
    auto it = on_disk.find(id);
    if (it == on_disk.end()) {
      out.errors.push_back(name + ": does not exist");
    } else {
      if (it->second != entry.expected_size) {
        out.errors.push_back(name + ": unexpected file size: got " + std::to_string(it->second) +
                             ", expected " + std::to_string(entry.expected_size));
      }
      on_disk.erase(it);
    }
    if (!Contiguous(entry.blobs)) {
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
  for (const auto& [id, entry] : packs_) total += entry.expected_size;
  return total;
}

std::vector<Id> Checker::SelectPacks(const ReadDataSubset& subset, uint64_t seed) const {
  std::vector<Id> all;
  for (const auto& [id, entry] : packs_) all.push_back(id);
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
