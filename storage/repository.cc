#include "storage/repository.h"

#include <algorithm>
#include <cstring>
#include <thread>

#include "base/in_order.h"
#include "crypto/encoding.h"
#include "crypto/random.h"
#include "storage/compression.h"
#include "storage/key_file.h"

namespace stash {
namespace {

// restic tries at most this many key files before giving up.
constexpr size_t kMaxKeysTried = 20;

// Every file of `type` with its id, read by `load` kConcurrentRequests at a time,
// in listing order; the first that fails (in that order) fails the call.
template <class T, class Load>
Result<std::vector<std::pair<Id, T>>> LoadEvery(Backend& backend, FileType type, Load load) {
  STASH_ASSIGN_OR_RETURN(auto files, backend.List(type));
  std::vector<std::pair<Id, T>> out;
  STASH_RETURN_IF_ERROR(LoadInOrder<T>(
      files.size(), kConcurrentRequests, [&](size_t i) { return load(*Id::FromHex(files[i].name)); },
      [&](size_t i, T&& value) {
        out.emplace_back(*Id::FromHex(files[i].name), std::move(value));
        return Status::Ok();
      }));
  return out;
}

std::string FileLabel(FileType type, const std::string& name) {
  return std::string(FileTypeDir(type)) + "/" + name;
}

// Format 2 "unpacked" encoding: 0x02 || zstd(json). See docs/repository-format.md, 5.1.
Result<Bytes> DecodeUnpacked(Bytes plain, int version) {
  if (version < 2 || plain.empty() || plain[0] == '{' || plain[0] == '[') return plain;
  if (plain[0] != 2) {
    return Unsupported("not supported encoding format " + std::to_string(plain[0]));
  }
  return ZstdDecompress(ByteView(plain).subspan(1));
}

// Moves the one key whose name starts with `hint` to the front.
void PutHintedKeyFirst(std::vector<FileInfo>& keys, std::string_view hint) {
  if (hint.empty()) return;
  auto named = [&](const FileInfo& info) {
    return std::string_view(info.name).substr(0, hint.size()) == hint;
  };
  auto first = std::find_if(keys.begin(), keys.end(), named);
  if (first == keys.end() || std::find_if(first + 1, keys.end(), named) != keys.end()) return;
  std::rotate(keys.begin(), first, first + 1);
}

}  // namespace

Repository::Repository(std::unique_ptr<Backend> backend, CryptoKey key, Id key_id,
                       RepoConfig config)
    : backend_(std::move(backend)), key_(key), key_id_(key_id), config_(std::move(config)) {}

void Repository::set_temp_dir(std::string dir) {
  std::call_once(temp_dir_once_, [] {});
  temp_dir_ = std::move(dir);
}

const std::string& Repository::temp_dir() {
  std::call_once(temp_dir_once_, [this] { temp_dir_ = backend_->TemporaryFolder(); });
  return temp_dir_;
}

Result<std::unique_ptr<Repository>> Repository::Init(std::unique_ptr<Backend> backend,
                                                     std::string_view password,
                                                     const InitOptions& options) {
  if (options.version < kMinRepoVersion || options.version > kMaxRepoVersion) {
    return Invalid("unsupported repository version " + std::to_string(options.version));
  }
  if (password.empty()) return Invalid("an empty password is not allowed");
  STASH_RETURN_IF_ERROR(backend->Create());
  CryptoKey master = CryptoKey::Generate();
  STASH_ASSIGN_OR_RETURN(KeyFile key, NewKeyFile(master, password, options.kdf,
                                                 options.username, options.hostname));
  std::string key_json = EncodeKeyFile(key);
  Id key_id = Sha256(AsBytes(key_json));
  RepoConfig config;
  config.version = options.version;
  config.id = HexEncode(RandomBytes(32));
  config.chunker_polynomial = options.chunker_polynomial;
  // Config first, then the key: a repository without a usable key is
  // recognisably broken, a key without a config is just a stray file.
  Bytes sealed_config = Seal(master, AsBytes(EncodeRepoConfig(config)));
  STASH_RETURN_IF_ERROR(backend->Write(FileType::kConfig, "config", sealed_config));
  STASH_RETURN_IF_ERROR(backend->Write(FileType::kKey, key_id.Hex(), AsBytes(key_json)));
  return std::unique_ptr<Repository>(
      new Repository(std::move(backend), master, key_id, std::move(config)));
}

Result<std::unique_ptr<Repository>> Repository::Open(std::unique_ptr<Backend> backend,
                                                     std::string_view password,
                                                     std::string_view key_hint) {
  std::string where = backend->Location();
  // The config is read (not only looked for: it is small and needed once
  // the key is known) while the keys are listed, so a distant repository
  // costs one round trip for both.
  std::optional<Result<std::vector<FileInfo>>> listed;
  std::thread lister([&] { listed.emplace(backend->List(FileType::kKey)); });
  auto sealed_config = backend->Read(FileType::kConfig, "config");
  lister.join();
  if (!sealed_config.ok()) {
    if (sealed_config.error().kind() == ErrorKind::kNotFound) {
      return NotFound("no repository at " + where + " (config file not found)");
    }
    return sealed_config.error();
  }
  STASH_ASSIGN_OR_RETURN(auto keys, std::move(*listed));
  if (keys.empty()) return AuthError(where + ": repository has no key files");
  std::sort(keys.begin(), keys.end(), [](auto& a, auto& b) { return a.name < b.name; });
  PutHintedKeyFirst(keys, key_hint);
  std::optional<Error> last_corrupt;
  size_t tried = 0;
  for (const auto& info : keys) {
    if (++tried > kMaxKeysTried) break;
    auto bytes = backend->Read(FileType::kKey, info.name);
    if (!bytes.ok()) return bytes.error();
    // The content hash is checked after scrypt, not before: hashing loads
    // OpenSSL's providers (3 MiB), and doing that first would stack them
    // under scrypt's 32 MiB, the peak of a small backup's memory.
    auto key_file = DecodeKeyFile(*bytes);
    if (!key_file.ok()) {
      last_corrupt = key_file.error().Wrap(FileLabel(FileType::kKey, info.name));
      continue;
    }
    auto master = OpenKeyFile(*key_file, password);
    if (!master.ok()) {
      if (master.error().kind() != ErrorKind::kAuth) {
        last_corrupt = master.error().Wrap(FileLabel(FileType::kKey, info.name));
      }
      continue;
    }
    if (Sha256(*bytes).Hex() != info.name) {
      last_corrupt = Corrupt(FileLabel(FileType::kKey, info.name) + ": file name does not match its content hash");
      continue;
    }
    auto plain = stash::Open(*master, *sealed_config);
    if (!plain.ok()) return plain.error().Wrap(where + "/config");
    auto config = DecodeRepoConfig(*plain);
    if (!config.ok()) return config.error().Wrap(where);
    return std::unique_ptr<Repository>(new Repository(
        std::move(backend), *master, *Id::FromHex(info.name), std::move(*config)));
  }
  if (last_corrupt) return AuthError("wrong password or no key found (" + last_corrupt->message() + ")");
  return AuthError("wrong password or no key found for repository " + where);
}

Result<Bytes> Repository::LoadSealed(FileType type, const Id& id) {
  std::string label = FileLabel(type, id.Hex());
  auto raw = backend_->Read(type, id.Hex());
  if (!raw.ok()) {
    if (raw.error().kind() == ErrorKind::kNotFound) return NotFound(label + ": file does not exist");
    return raw.error();
  }
  if (Sha256(*raw) != id) return Corrupt(label + ": content does not match its name (hash mismatch)");
  // Decrypted where it lies, then moved to the front: no second buffer.
  auto plain = OpenInPlace(key_, *raw);
  if (!plain.ok()) return plain.error().Wrap(label);
  size_t n = plain->size();
  std::memmove(raw->data(), plain->data(), n);
  raw->resize(n);
  return std::move(*raw);
}

Result<Bytes> Repository::LoadFile(FileType type, const Id& id) {
  STASH_ASSIGN_OR_RETURN(Bytes plain, LoadSealed(type, id));
  auto decoded = DecodeUnpacked(std::move(plain), config_.version);
  if (!decoded.ok()) return decoded.error().Wrap(FileLabel(type, id.Hex()));
  return std::move(*decoded);
}

// A format 2 index file is parsed as it is decompressed: its JSON is
// several times its frame and never needs to exist whole.
Result<IndexFile> Repository::LoadIndexFile(const Id& id) {
  STASH_ASSIGN_OR_RETURN(Bytes plain, LoadSealed(FileType::kIndex, id));
  return DecodeIndexPlaintext(id, std::move(plain));
}

Result<IndexFile> Repository::DecodeIndexPlaintext(const Id& id, Bytes plain) {
  auto decoded = [&]() -> Result<IndexFile> {
    if (config_.version >= 2 && !plain.empty() && plain[0] == 2) {
      ZstdStreamReader text(ByteView(plain).subspan(1));
      return DecodeIndexFile([&] { return text.Next(); }, config_.version);
    }
    STASH_ASSIGN_OR_RETURN(Bytes json, DecodeUnpacked(std::move(plain), config_.version));
    return DecodeIndexFile(json, config_.version);
  }();
  if (!decoded.ok()) return decoded.error().Wrap(FileLabel(FileType::kIndex, id.Hex()));
  return decoded;
}

Result<Id> Repository::SaveFile(FileType type, ByteView plaintext) {
  Bytes buf(kNonceSize);  // room for the nonce SealInPlace writes
  if (config_.version >= 2) {
    buf.push_back(2);  // format 2 "unpacked" encoding: 0x02 || zstd(plaintext)
    Bytes z = ZstdCompress(plaintext);
    buf.insert(buf.end(), z.begin(), z.end());
  } else {
    buf.insert(buf.end(), plaintext.begin(), plaintext.end());
  }
  return StoreSealed(type, buf);
}

Result<Id> Repository::StoreSealed(FileType type, Bytes& buf) {
  SealInPlace(key_, buf);
  Id id = Sha256(buf);
  STASH_RETURN_IF_ERROR(backend_->Write(type, id.Hex(), buf));
  return id;
}

Result<Id> Repository::ResolvePrefix(FileType type, std::string_view prefix) {
  if (auto full = Id::FromHex(prefix)) return *full;
  std::string what = std::string(type == FileType::kSnapshot ? "snapshot" : FileTypeDir(type));
  if (prefix.empty() || !std::all_of(prefix.begin(), prefix.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      })) {
    return Invalid("invalid " + what + " id \"" + std::string(prefix) + "\"");
  }
  STASH_ASSIGN_OR_RETURN(auto files, backend_->List(type));
  std::optional<Id> match;
  for (const auto& f : files) {
    if (f.name.compare(0, prefix.size(), prefix) != 0) continue;
    if (match) return Conflict(what + " id prefix \"" + std::string(prefix) + "\" is ambiguous");
    match = Id::FromHex(f.name);
  }
  if (!match) return NotFound("no " + what + " found with id \"" + std::string(prefix) + "\"");
  return *match;
}

Result<std::vector<std::pair<Id, IndexFile>>> Repository::LoadIndexFiles() {
  return LoadEvery<IndexFile>(*backend_, FileType::kIndex, [&](const Id& id) { return LoadIndexFile(id); });
}

void Repository::LoadIndexFiles(const std::vector<Id>& ids,
                                const std::function<void(const Id&, Result<IndexFile>&&)>& use) {
  // Failures are passed on as values, so LoadInOrder never stops early.
  (void)LoadInOrder<Result<Bytes>>(
      ids.size(), kConcurrentRequests,
      [&](size_t i) -> Result<Result<Bytes>> { return LoadSealed(FileType::kIndex, ids[i]); },
      [&](size_t i, Result<Bytes>&& plain) {
        use(ids[i], plain.ok() ? DecodeIndexPlaintext(ids[i], std::move(*plain)) : Result<IndexFile>(plain.error()));
        return Status::Ok();
      });
}

// Index files are read kConcurrentRequests at a time, but decoded and added one
// at a time in listing order: only their (compressed) bytes wait, and one
// decoded file is held beside the compact index, as when read in a row.
Status Repository::LoadIndex(IndexDetail detail) {
  STASH_ASSIGN_OR_RETURN(auto files, backend_->List(FileType::kIndex));
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::unique_lock<std::shared_mutex> changing(index_mu_);
    // Locations asked of an index that has ids only: read it again whole.
    bool poorer = index_.detail() != detail && detail == IndexDetail::kLocations;
    if (index_.BlobCount() == 0 || poorer) index_ = Index(detail);
  }
  return LoadInOrder<Bytes>(
      files.size(), kConcurrentRequests,
      [&](size_t i) { return LoadSealed(FileType::kIndex, *Id::FromHex(files[i].name)); },
      [&](size_t i, Bytes&& plain) -> Status {
        STASH_ASSIGN_OR_RETURN(IndexFile decoded, DecodeIndexPlaintext(*Id::FromHex(files[i].name), std::move(plain)));
        std::lock_guard<std::mutex> lock(mu_);
        std::unique_lock<std::shared_mutex> changing(index_mu_);
        for (const auto& pack : decoded.packs) index_.AddPack(pack.id, pack.blobs);
        return Status::Ok();
      });
}

Result<Bytes> Repository::LoadBlob(BlobType type, const Id& id) {
  std::optional<BlobLocation> loc;
  bool indexed = false;  // without a location: an index read for a backup
  {
    std::shared_lock<std::shared_mutex> reading(index_mu_);
    loc = index_.Lookup(type, id);
    indexed = loc || index_.Has(type, id);
  }
  std::string label = std::string(BlobTypeName(type)) + " blob " + id.Hex();
  if (!loc && indexed) return Invalid(label + ": its location was not loaded (index read for a backup)");
  if (!loc) return NotFound(label + " not found in index");
  std::string where = label + " in pack " + loc->pack.Hex();
  Bytes raw_copy;
  ByteView raw;
  std::shared_ptr<const Bytes> pack = type == BlobType::kTree ? CachedTreePack(loc->pack) : nullptr;
  if (pack && uint64_t{loc->blob.offset} + loc->blob.length <= pack->size()) {
    raw = ByteView(*pack).subspan(loc->blob.offset, loc->blob.length);
  } else {
    auto read = backend_->Read(FileType::kPack, loc->pack.Hex(), loc->blob.offset, loc->blob.length);
    if (!read.ok()) return read.error().Wrap(where);
    raw_copy = std::move(*read);
    raw = raw_copy;
  }
  auto plain = stash::Open(key_, raw);
  if (!plain.ok()) return plain.error().Wrap(where);
  if (loc->blob.compressed()) {
    auto unz = ZstdDecompress(*plain, loc->blob.uncompressed_length);
    if (!unz.ok()) return unz.error().Wrap(where);
    plain = std::move(*unz);
  }
  if (Sha256(*plain) != id) return Corrupt(where + ": content does not match its id");
  return std::move(*plain);
}

void Repository::CacheTreePacks(uint64_t max_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  tree_packs_ = max_bytes ? std::make_unique<PackCache>(max_bytes) : nullptr;
}

std::shared_ptr<const Bytes> Repository::CachedTreePack(const Id& pack) {
  std::optional<Index::PackExtent> extent;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!tree_packs_) return nullptr;
    extent = index_.Extent(pack);
  }
  // Packs with data in them are read blob by blob as before: a tree's
  // neighbours there could be megabytes of file content.
  if (!extent || extent->has_data) return nullptr;
  return tree_packs_->Get(pack, extent->blobs_end, [&] {
    return backend_->Read(FileType::kPack, pack.Hex(), 0, extent->blobs_end);
  });
}

bool Repository::Indexed(BlobType type, const Id& id) const {
  std::shared_lock<std::shared_mutex> reading(index_mu_);
  return index_.Has(type, id);
}

bool Repository::HasBlob(BlobType type, const Id& id) {
  // Most blobs asked about are stored; the rest are asked again under mu_,
  // where a pending blob cannot move into the index unseen.
  if (Indexed(type, id)) return true;
  std::lock_guard<std::mutex> lock(mu_);
  return Pending(type).count(id) || index_.Has(type, id);
}

std::unique_ptr<PackWriter> Repository::TakeWriter(BlobType type) {
  std::unique_lock<std::mutex> lock(mu_);
  auto& idle = type == BlobType::kTree ? idle_tree_ : idle_data_;
  size_t& open = type == BlobType::kTree ? tree_writers_ : data_writers_;
  // At most kMaxPackWriters packs of a type fill at once: more threads than
  // that wait here instead of each growing a pack of its own in memory.
  writer_cv_.wait(lock, [&] { return !idle.empty() || open < kMaxPackWriters; });
  if (idle.empty()) {
    ++open;
    // Room for a full pack plus one more maximal chunk and the header.
    return std::make_unique<PackWriter>(key_, temp_dir());
  }
  auto w = std::move(idle.back());
  idle.pop_back();
  return w;
}

void Repository::ReturnWriter(BlobType type, std::unique_ptr<PackWriter> writer) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    (type == BlobType::kTree ? idle_tree_ : idle_data_).push_back(std::move(writer));
  }
  writer_cv_.notify_one();
}

Result<bool> Repository::SaveBlob(BlobType type, const Id& id, ByteView plaintext) {
  if (Indexed(type, id)) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (upload_error_) return *upload_error_;
    if (Pending(type).count(id) || index_.Has(type, id)) return false;
    Pending(type).insert(id);
  }
  auto writer = TakeWriter(type);
  size_t before = writer->Size();
  if (Status added = writer->AddPlaintext(type, id, plaintext, blob_zstd_level()); !added.ok()) {
    // The writer's file is gone with every blob in it: none of them is
    // pending any more, so a later save stores them again.
    auto lost = writer->Discard();
    {
      std::lock_guard<std::mutex> lock(mu_);
      Pending(type).erase(id);
      for (const auto& b : lost) Pending(type).erase(b.id);
    }
    ReturnWriter(type, std::move(writer));
    return added.error();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    (type == BlobType::kTree ? stats_.tree_blobs : stats_.data_blobs)++;
    stats_.data_added += plaintext.size();
    stats_.data_added_packed += writer->Size() - before;
  }
  Status written;
  if (writer->Size() >= pack_size_ || writer->Count() >= kMaxPackBlobs) written = WritePack(*writer);
  ReturnWriter(type, std::move(writer));
  if (!written.ok()) return written.error();
  return true;
}

Status Repository::WritePack(PackWriter& writer) {
  if (writer.Empty()) return Status::Ok();
  STASH_ASSIGN_OR_RETURN(PackFile file, writer.Finish());
  auto pack = std::make_shared<PackFile>(std::move(file));
  {
    std::unique_lock<std::mutex> lock(mu_);
    upload_cv_.wait(lock, [&] { return uploads_ < kMaxUploads; });
    if (upload_error_) {
      for (const auto& b : pack->blobs) Pending(b.type).erase(b.id);
      return *upload_error_;
    }
    ++uploads_;
    if (!uploader_) uploader_ = std::make_unique<ThreadPool>(kMaxUploads);
  }
  // One thread per slot: the job starts at once, never queues.
  uploader_->Submit([this, pack = std::move(pack)]() mutable { Upload(std::move(pack)); });
  return Status::Ok();
}

void Repository::Upload(std::shared_ptr<PackFile> pack) {
  Status stored = backend_->WriteFromFile(FileType::kPack, pack->id.Hex(), pack->fd(), pack->size());
  IndexedPack indexed{pack->id, std::move(pack->blobs)};
  pack.reset();  // the temporary file goes before the slot is free
  IndexFile full;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& b : indexed.blobs) Pending(b.type).erase(b.id);
    if (!stored.ok()) {
      if (!upload_error_) upload_error_ = stored.error();
    } else {
      {
        std::unique_lock<std::shared_mutex> changing(index_mu_);
        index_.AddNewPack(indexed.id, indexed.blobs);
      }
      unindexed_blobs_ += indexed.blobs.size();
      unindexed_packs_.push_back(std::move(indexed));
      // As restic does, an index file is written once it lists enough
      // blobs, so what waits for the final Flush stays small.
      if (unindexed_blobs_ >= kIndexFileBlobs) {
        full.packs = std::move(unindexed_packs_);
        unindexed_packs_.clear();
        unindexed_blobs_ = 0;
      }
    }
  }
  Status saved = full.packs.empty() ? Status::Ok() : SaveIndexFile(full);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!saved.ok() && !upload_error_) upload_error_ = saved.error();
    --uploads_;
  }
  upload_cv_.notify_all();
}

Status Repository::WaitUploads() {
  std::unique_lock<std::mutex> lock(mu_);
  upload_cv_.wait(lock, [&] { return uploads_ == 0; });
  if (upload_error_) return *upload_error_;
  return Status::Ok();
}

// Streamed: the JSON goes piece by piece into the buffer that is then
// sealed in place, so a 50,000-blob index file costs its sealed size once,
// not also its text, its frame and a copy of each.
Status Repository::SaveIndexFile(const IndexFile& file) {
  size_t text = 0;
  EncodeIndexFilePieces(file, [&](std::string_view piece) { text += piece.size(); });
  Bytes buf(kNonceSize);  // room for the nonce SealInPlace writes
  if (config_.version >= 2) {
    buf.push_back(2);  // format 2 "unpacked" encoding: 0x02 || zstd(json)
    ZstdFrameWriter frame(buf, text);
    EncodeIndexFilePieces(file, [&](std::string_view piece) { frame.Write(AsBytes(piece)); });
    STASH_RETURN_IF_ERROR(frame.Finish());
  } else {
    buf.reserve(text + kCipherOverhead);
    EncodeIndexFilePieces(file, [&](std::string_view piece) {
      ByteView bytes = AsBytes(piece);
      buf.insert(buf.end(), bytes.begin(), bytes.end());
    });
  }
  STASH_RETURN_IF_ERROR(StoreSealed(FileType::kIndex, buf));
  return Status::Ok();
}

Status Repository::Flush() {
  std::vector<std::unique_ptr<PackWriter>> writers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Writers in use by other threads stay counted; only the idle ones go.
    data_writers_ -= idle_data_.size();
    tree_writers_ -= idle_tree_.size();
    for (auto* idle : {&idle_data_, &idle_tree_}) {
      for (auto& w : *idle) writers.push_back(std::move(w));
      idle->clear();
    }
  }
  Status handed = Status::Ok();
  for (auto& w : writers) {
    if (handed.ok()) {
      handed = WritePack(*w);
    } else {
      std::vector<PackedBlob> lost = w->Discard();
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& b : lost) Pending(b.type).erase(b.id);
    }
  }
  // Every upload ends before the index names its pack, or before an error
  // is returned (nothing is left running behind the caller's back).
  Status uploaded = WaitUploads();
  STASH_RETURN_IF_ERROR(handed);
  STASH_RETURN_IF_ERROR(uploaded);
  IndexFile file;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (unindexed_packs_.empty()) return Status::Ok();
    file.packs = std::move(unindexed_packs_);
    unindexed_packs_.clear();
    unindexed_blobs_ = 0;
  }
  return SaveIndexFile(file);
}

size_t Repository::UnindexedPackCount() {
  std::lock_guard<std::mutex> lock(mu_);
  return unindexed_packs_.size();
}

Repository::WriteStats Repository::write_stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

Result<Snapshot> Repository::LoadSnapshot(const Id& id) {
  STASH_ASSIGN_OR_RETURN(Bytes plain, LoadFile(FileType::kSnapshot, id));
  auto snapshot = DecodeSnapshot(plain);
  if (!snapshot.ok()) return snapshot.error().Wrap(FileLabel(FileType::kSnapshot, id.Hex()));
  return std::move(*snapshot);
}

Result<Id> Repository::SaveSnapshot(const Snapshot& snapshot) {
  return SaveFile(FileType::kSnapshot, AsBytes(EncodeSnapshot(snapshot)));
}

Result<std::vector<std::pair<Id, Snapshot>>> Repository::LoadAllSnapshots() {
  return LoadEvery<Snapshot>(*backend_, FileType::kSnapshot, [&](const Id& id) { return LoadSnapshot(id); });
}

void Repository::LoadSnapshots(const std::vector<Id>& ids,
                               const std::function<void(const Id&, Result<Snapshot>&&)>& use) {
  // Failures are passed on as values, so LoadInOrder never stops early.
  (void)LoadInOrder<Result<Snapshot>>(
      ids.size(), kConcurrentRequests, [&](size_t i) -> Result<Result<Snapshot>> { return LoadSnapshot(ids[i]); },
      [&](size_t i, Result<Snapshot>&& got) {
        use(ids[i], std::move(got));
        return Status::Ok();
      });
}

Result<Tree> Repository::LoadTree(const Id& id) {
  STASH_ASSIGN_OR_RETURN(Bytes plain, LoadBlob(BlobType::kTree, id));
  auto tree = DecodeTree(plain);
  if (!tree.ok()) return tree.error().Wrap("tree " + id.Hex());
  return std::move(*tree);
}

Result<Id> Repository::SaveTree(const Tree& tree) {
  Bytes bytes = EncodeTree(tree);
  Id id = Sha256(bytes);
  STASH_RETURN_IF_ERROR(SaveBlob(BlobType::kTree, id, bytes));
  return id;
}

}  // namespace stash
