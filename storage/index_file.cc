#include "storage/index_file.h"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <optional>
#include <utility>

namespace stash {
namespace {

constexpr size_t kIndexPieceBytes = 16 << 10;

void AppendBlob(std::string& out, const PackedBlob& b) {
  out += "{\"id\":\"" + b.id.Hex() + "\",\"type\":\"" + BlobTypeName(b.type) +
         "\",\"offset\":" + std::to_string(b.offset) + ",\"length\":" + std::to_string(b.length);
  if (b.compressed()) out += ",\"uncompressed_length\":" + std::to_string(b.uncompressed_length);
  out += "}";
}

}  // namespace

void EncodeIndexFilePieces(const IndexFile& index, const std::function<void(std::string_view)>& sink) {
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
      // Hand on a piece once it is a few KiB: large enough that the sink's
      // per-call cost does not matter, small enough to stay in cache.
      if (out.size() >= kIndexPieceBytes) {
        sink(out);
        out.clear();
      }
    }
    out += "]}";
  }
  out += "]}\n";
  sink(out);
}

std::string EncodeIndexFile(const IndexFile& index) {
  std::string out;
  EncodeIndexFilePieces(index, [&](std::string_view piece) { out += piece; });
  return out;
}

namespace {

// A RapidJSON input stream over text that arrives in pieces. Peek() is '\0'
// at the end, as for RapidJSON's own memory streams.
class PieceStream {
 public:
  using Ch = char;
  explicit PieceStream(const TextPieces& next) : next_(next) { Fill(); }

  Ch Peek() const { return cur_ != end_ ? *cur_ : '\0'; }
  Ch Take() {
    if (cur_ == end_) return '\0';
    Ch c = *cur_++;
    if (cur_ == end_) {
      taken_before_ += static_cast<size_t>(end_ - begin_);
      Fill();
    }
    return c;
  }
  size_t Tell() const { return taken_before_ + static_cast<size_t>(cur_ - begin_); }
  // Write side: never used by a Reader without kParseInsituFlag.
  Ch* PutBegin() { return nullptr; }
  void Put(Ch) {}
  void Flush() {}
  size_t PutEnd(Ch*) { return 0; }

  const std::optional<Error>& error() const { return error_; }

 private:
  void Fill() {
    begin_ = cur_ = end_ = nullptr;
    if (error_) return;
    auto piece = next_();
    if (!piece.ok()) {
      error_ = piece.error();
      return;
    }
    begin_ = cur_ = reinterpret_cast<const char*>(piece->data());
    end_ = cur_ + piece->size();
  }

  const TextPieces& next_;
  const char* begin_ = nullptr;
  const char* cur_ = nullptr;
  const char* end_ = nullptr;
  size_t taken_before_ = 0;
  std::optional<Error> error_;
};

// What the decoder makes of one value, decided by where it stands.
enum class Slot : uint8_t {
  kRoot,             // the document
  kPacks,            // the "packs" member
  kPack,             // an element of the packs
  kPackId,           // a pack's "id"
  kBlobs,            // a pack's "blobs"
  kBlob,             // an element of a pack's blobs
  kBlobId,           // a blob's members:
  kBlobType,
  kBlobOffset,
  kBlobLength,
  kBlobUncompressed,
  kSupersedes,       // the "supersedes" member
  kSupersededId,     // an element of it
  kIgnored,          // anything else, skipped whole
};

// The container a value is in.
enum class Within : uint8_t { kRootObject, kPacks, kPack, kBlobs, kBlob, kSupersedes, kSkipped };

// A blob's members as they come; of a member given twice the first counts.
struct BlobFields {
  uint8_t seen = 0;  // a bit per Slot from kBlobId on
  std::optional<Id> id;
  std::optional<std::string> type;
  std::optional<uint64_t> offset, length, uncompressed;
};

// The index file's grammar as SAX events. It reads on after the first
// fault (so that invalid JSON further on is still what is reported, as a
// whole-document parser would) but keeps nothing more.
class IndexHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, IndexHandler> {
 public:
  explicit IndexHandler(int repo_version) : repo_version_(repo_version) {}

  // rapidjson::BaseReaderHandler routes every scalar here.
  bool Default() { return Scalar(Value{}); }
  bool Uint(unsigned u) { return Uint64(u); }
  bool Uint64(uint64_t u) {
    Value v;
    v.number = u;
    return Scalar(v);
  }
  bool Int(int i) { return i >= 0 ? Uint64(static_cast<uint64_t>(i)) : Default(); }
  bool Int64(int64_t i) { return i >= 0 ? Uint64(static_cast<uint64_t>(i)) : Default(); }
  bool Null() {
    Value v;
    v.null = true;
    return Scalar(v);
  }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    Value v;
    v.text = std::string_view(s, n);
    return Scalar(v);
  }

  bool Key(const char* s, rapidjson::SizeType n, bool);
  bool StartObject();
  bool EndObject(rapidjson::SizeType);
  bool StartArray();
  bool EndArray(rapidjson::SizeType);

  // After a clean parse: the index, or the first fault in the order a
  // reader of the whole document checks (root, supersedes, packs).
  Result<IndexFile> Finish();

 private:
  struct Value {
    std::optional<uint64_t> number;
    std::optional<std::string_view> text;
    bool null = false;
  };
  bool Scalar(const Value& v);
  void Enter(Within w) { stack_.push_back(w); }
  // After a value: what the next value of the enclosing container is.
  void Next();
  void PackFault(Error e) {
    if (!pack_fault_) pack_fault_ = std::move(e);
  }
  void EndBlob();
  void EndPack();
  bool SeenBefore(Slot s) {
    uint8_t bit = static_cast<uint8_t>(1u << (static_cast<int>(s) - static_cast<int>(Slot::kBlobId)));
    bool seen = blob_.seen & bit;
    blob_.seen |= bit;
    return seen;
  }

  int repo_version_;
  IndexFile index_;
  std::vector<Within> stack_;
  Slot slot_ = Slot::kRoot;

  std::optional<Error> root_fault_, supersedes_fault_, packs_fault_, first_pack_fault_;
  bool packs_seen_ = false, supersedes_seen_ = false;

  // The pack being read.
  IndexedPack pack_;
  bool pack_id_seen_ = false, pack_id_valid_ = false, blobs_seen_ = false;
  std::optional<Error> pack_fault_;  // "blobs is not an array" or its first blob's fault
  BlobFields blob_;
};

bool IndexHandler::Scalar(const Value& v) {
  switch (slot_) {
    case Slot::kRoot:
      root_fault_ = Corrupt("index: not a JSON object or array");
      break;
    case Slot::kPacks:
      if (!v.null) packs_fault_ = Corrupt("index: packs is not an array");
      break;
    case Slot::kPack:
      if (!first_pack_fault_) first_pack_fault_ = Corrupt("pack entry lacks a valid id");
      break;
    case Slot::kPackId:
      if (v.text) {
        if (auto id = Id::FromHex(*v.text)) {
          pack_.id = *id;
          pack_id_valid_ = true;
        }
      }
      break;
    case Slot::kBlobs:
      if (!v.null) PackFault(Corrupt("blobs is not an array"));
      break;
    case Slot::kBlob:
      PackFault(Corrupt("blob entry lacks id, type, offset or length"));
      break;
    case Slot::kBlobId:
      if (v.text) blob_.id = Id::FromHex(*v.text);
      break;
    case Slot::kBlobType:
      if (v.text) blob_.type = std::string(*v.text);
      break;
    case Slot::kBlobOffset:
      blob_.offset = v.number;
      break;
    case Slot::kBlobLength:
      blob_.length = v.number;
      break;
    case Slot::kBlobUncompressed:
      blob_.uncompressed = v.number;
      break;
    case Slot::kSupersededId: {
      std::optional<Id> id;
      if (v.text) id = Id::FromHex(*v.text);
      if (!id) {
        if (!supersedes_fault_) supersedes_fault_ = Corrupt("index: invalid supersedes entry");
      } else if (!supersedes_fault_) {
        index_.supersedes.push_back(*id);
      }
      break;
    }
    case Slot::kSupersedes:  // not an array: ignored
    case Slot::kIgnored:
      break;
  }
  Next();
  return true;
}

bool IndexHandler::Key(const char* s, rapidjson::SizeType n, bool) {
  std::string_view key(s, n);
  Within w = stack_.back();
  slot_ = Slot::kIgnored;
  // Of a member given twice the first counts, as a whole-document reader's
  // lookup finds the first.
  auto first = [](bool& seen) { return !std::exchange(seen, true); };
  if (w == Within::kRootObject) {
    if (key == "packs" && first(packs_seen_)) slot_ = Slot::kPacks;
    if (key == "supersedes" && first(supersedes_seen_)) slot_ = Slot::kSupersedes;
  } else if (w == Within::kPack) {
    if (key == "id" && first(pack_id_seen_)) slot_ = Slot::kPackId;
    if (key == "blobs" && first(blobs_seen_)) slot_ = Slot::kBlobs;
  } else if (w == Within::kBlob) {
    Slot s = key == "id"                    ? Slot::kBlobId
             : key == "type"                ? Slot::kBlobType
             : key == "offset"              ? Slot::kBlobOffset
             : key == "length"              ? Slot::kBlobLength
             : key == "uncompressed_length" ? Slot::kBlobUncompressed
                                            : Slot::kIgnored;
    if (s != Slot::kIgnored && !SeenBefore(s)) slot_ = s;
  }
  return true;
}

bool IndexHandler::StartObject() {
  switch (slot_) {
    case Slot::kRoot:
      Enter(Within::kRootObject);
      return true;
    case Slot::kPack:
      pack_ = IndexedPack{};
      pack_id_seen_ = pack_id_valid_ = blobs_seen_ = false;
      pack_fault_.reset();
      Enter(Within::kPack);
      return true;
    case Slot::kBlob:
      blob_ = BlobFields{};
      Enter(Within::kBlob);
      return true;
    default:
      // Anything else an object may not be is a fault, as for a scalar;
      // its content is skipped.
      if (slot_ != Slot::kIgnored && slot_ != Slot::kSupersedes) (void)Scalar(Value{});
      Enter(Within::kSkipped);
      slot_ = Slot::kIgnored;
      return true;
  }
}

bool IndexHandler::StartArray() {
  switch (slot_) {
    case Slot::kRoot:
      index_.old_format = true;
      Enter(Within::kPacks);
      break;
    case Slot::kPacks:
      Enter(Within::kPacks);
      break;
    case Slot::kBlobs:
      Enter(Within::kBlobs);
      break;
    case Slot::kSupersedes:
      Enter(Within::kSupersedes);
      break;
    default:
      if (slot_ != Slot::kIgnored) (void)Scalar(Value{});
      Enter(Within::kSkipped);
      break;
  }
  Next();  // what the array's first element is
  return true;
}

bool IndexHandler::EndObject(rapidjson::SizeType) {
  Within w = stack_.back();
  stack_.pop_back();
  if (w == Within::kBlob) EndBlob();
  if (w == Within::kPack) EndPack();
  Next();
  return true;
}

bool IndexHandler::EndArray(rapidjson::SizeType) {
  stack_.pop_back();
  Next();
  return true;
}

void IndexHandler::Next() {
  if (stack_.empty()) {
    slot_ = Slot::kIgnored;  // the document is done
    return;
  }
  switch (stack_.back()) {
    case Within::kPacks:
      slot_ = Slot::kPack;
      break;
    case Within::kBlobs:
      slot_ = Slot::kBlob;
      break;
    case Within::kSupersedes:
      slot_ = Slot::kSupersededId;
      break;
    default:
      slot_ = Slot::kIgnored;  // objects: the next key decides
      break;
  }
}

void IndexHandler::EndBlob() {
  if (pack_fault_) return;
  const BlobFields& f = blob_;
  if (!f.id || !f.type || !f.offset || !f.length) {
    return PackFault(Corrupt("blob entry lacks id, type, offset or length"));
  }
  PackedBlob b;
  if (*f.type == "data") {
    b.type = BlobType::kData;
  } else if (*f.type == "tree") {
    b.type = BlobType::kTree;
  } else {
    return PackFault(Corrupt("invalid blob type \"" + *f.type + "\""));
  }
  if (*f.offset > UINT32_MAX || *f.length > UINT32_MAX || *f.length < 32) {
    return PackFault(Corrupt("blob " + f.id->Hex() + ": offset or length out of range"));
  }
  b.id = *f.id;
  b.offset = static_cast<uint32_t>(*f.offset);
  b.length = static_cast<uint32_t>(*f.length);
  if (f.uncompressed && *f.uncompressed != 0) {
    if (repo_version_ < 2) {
      return PackFault(Unsupported("index uses feature not supported by repository version 1"));
    }
    if (*f.uncompressed > UINT32_MAX) {
      return PackFault(Corrupt("blob " + f.id->Hex() + ": uncompressed_length out of range"));
    }
    b.uncompressed_length = static_cast<uint32_t>(*f.uncompressed);
  }
  if (!first_pack_fault_) pack_.blobs.push_back(b);
}

void IndexHandler::EndPack() {
  if (first_pack_fault_) return;
  if (!pack_id_valid_) {
    first_pack_fault_ = Corrupt("pack entry lacks a valid id");
  } else if (pack_fault_) {
    first_pack_fault_ = pack_fault_->Wrap("pack " + pack_.id.Hex());
  } else {
    index_.packs.push_back(std::move(pack_));
  }
  pack_ = IndexedPack{};
}

Result<IndexFile> IndexHandler::Finish() {
  for (auto* fault : {&root_fault_, &supersedes_fault_, &packs_fault_, &first_pack_fault_}) {
    if (*fault) return std::move(**fault);
  }
  return std::move(index_);
}

}  // namespace

Result<IndexFile> DecodeIndexFile(const TextPieces& next, int repo_version) {
  PieceStream stream(next);
  IndexHandler handler(repo_version);
  rapidjson::Reader reader;
  rapidjson::ParseResult parsed = reader.Parse<rapidjson::kParseIterativeFlag>(stream, handler);
  if (stream.error()) return *stream.error();
  if (parsed.IsError()) {
    return Corrupt(std::string("index: invalid JSON (") + rapidjson::GetParseError_En(parsed.Code()) +
                   " at offset " + std::to_string(parsed.Offset()) + ")");
  }
  return handler.Finish();
}

Result<IndexFile> DecodeIndexFile(ByteView json, int repo_version) {
  bool given = false;
  return DecodeIndexFile(
      [&]() -> Result<ByteView> {
        if (given) return ByteView();
        given = true;
        return json;
      },
      repo_version);
}

}  // namespace stash
