// Repository: typed, encrypted access to a restic repository on a Backend.
//
// It owns the master key and the index. The engine and the apiserver go
// through it for everything; nothing else touches encryption or formats.
// SaveBlob, HasBlob, LoadBlob and LoadFile may be called from several
// threads at once (blobs are compressed and encrypted in the caller's
// thread); everything else is for one thread at a time.
//
// A full pack is uploaded on a thread of the repository's own, so that a
// slow backend does not stall the threads filling the next packs; at most
// kMaxUploads packs are in flight, and a thread with a full pack waits for
// a free slot. An upload that fails is never lost: its pack's blobs get no
// index entry, and SaveBlob and Flush return that error from then on (the
// backup must stop: a snapshot would name blobs that were not stored).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/thread_pool.h"
#include "crypto/crypto_key.h"
#include "crypto/kdf.h"
#include "storage/backends/backend.h"
#include "storage/compression.h"
#include "storage/index.h"
#include "storage/pack_cache.h"
#include "storage/pack.h"
#include "storage/repo_config.h"
#include "storage/snapshot.h"
#include "storage/tree.h"

namespace stash {

// restic 0.14's default pack size.
inline constexpr size_t kDefaultPackSize = 16 * 1024 * 1024;
// A pack is also full at this many blobs. Until its upload is indexed,
// each blob costs about 120 bytes of memory (the pending set and the pack's
// blob list); tiny blobs would put some 64,000 in a 16 MiB pack, and with
// eight packs in flight that was a quarter of a large backup's memory.
// 8,192 rather than 16,384 took a first backup of a million tiny files from
// 95-99 to 90-93 MiB. Smaller packs stay valid for restic, which sets no
// count.
inline constexpr size_t kMaxPackBlobs = 8192;
// Packs of one blob type filling at once, each in a temporary file.
inline constexpr size_t kMaxPackWriters = 2;
// Full packs being uploaded at once, each still in its temporary file (no
// memory beyond the page cache), on as many threads.
inline constexpr size_t kMaxUploads = 4;
// An index file is written once the packs not yet indexed hold this many
// blobs. restic counts an index file full at 50,000; smaller ones are as
// valid. Until it is written, each blob waits in its pack's list (48 bytes),
// and the sealed file is built in memory: at the end of a backup, when the
// index is largest, 50,000 of them cost about 3.5 MiB more than 16,384 (a
// million-file first backup peaked at 86-87 MiB against 89-90).
inline constexpr size_t kIndexFileBlobs = 16384;

struct InitOptions {
  int version = 2;
  uint64_t chunker_polynomial = 0;  // required: a random irreducible one
  ScryptParams kdf;
  std::string username;
  std::string hostname;
};

class Repository {
 public:
  // Creates a new repository: layout, config and a first key file.
  static Result<std::unique_ptr<Repository>> Init(std::unique_ptr<Backend> backend,
                                                  std::string_view password,
                                                  const InitOptions& options);

  // Opens an existing repository by trying the password on its key files,
  // in the order of their names. `key_hint` (restic's --key-hint) is the id,
  // or a prefix of it, of the key to try first; a hint that names no key,
  // or several, changes nothing.
  static Result<std::unique_ptr<Repository>> Open(std::unique_ptr<Backend> backend,
                                                  std::string_view password,
                                                  std::string_view key_hint = {});

  Backend& backend() { return *backend_; }
  const RepoConfig& config() const { return config_; }
  const CryptoKey& master_key() const { return key_; }
  const Id& key_id() const { return key_id_; }

  // Loads an unpacked file (index, snapshot, lock): checks that its name is
  // the hash of its bytes, decrypts, and undoes format-2 compression.
  Result<Bytes> LoadFile(FileType type, const Id& id);
  // Loads and decodes one index file, parsing format 2's JSON as it is
  // decompressed. Errors name index/<id>.
  Result<IndexFile> LoadIndexFile(const Id& id);
  // Encodes (compressed in format 2), encrypts and stores; returns its id.
  Result<Id> SaveFile(FileType type, ByteView plaintext);

  // Resolves a full id or a unique prefix of a file name. kNotFound when
  // nothing matches, kConflict when the prefix is ambiguous.
  Result<Id> ResolvePrefix(FileType type, std::string_view prefix);

  // Reads every index file into memory. A backup, which never reads data
  // blobs, passes kDataIdsOnly to keep their ids alone (a third less memory
  // per data blob), and the trees it saves too; LoadBlob then refuses those
  // blobs until a later LoadIndex() asks for locations, which reads the
  // index again. Call it before saving blobs, or after a Flush.
  Status LoadIndex(IndexDetail detail = IndexDetail::kLocations);
  // Every index file with its id, as stored (prune and check need the
  // per-pack lists, duplicates included).
  Result<std::vector<std::pair<Id, IndexFile>>> LoadIndexFiles();
  // Reads the index files `ids` a few at a time and hands each outcome to
  // `use`, in the order of `ids`, on the caller's thread, where it is also
  // decoded: only the files' stored bytes wait, one decoded file is held at
  // a time. One that cannot be read or decoded does not stop the others.
  void LoadIndexFiles(const std::vector<Id>& ids,
                      const std::function<void(const Id&, Result<IndexFile>&&)>& use);
  // Not to be used while other threads save blobs.
  const Index& index() const { return index_; }

  // Reads a blob: decrypts, decompresses, and checks its hash.
  Result<Bytes> LoadBlob(BlobType type, const Id& id);
  // From now on LoadBlob reads a pack that holds only trees whole, once,
  // and keeps up to `max_bytes` of such packs (0: off, the default), so a
  // walk over many trees costs a request per pack rather than per tree.
  // For readers of whole snapshots (restore); a pack that cannot be read
  // whole is read blob by blob as before. Call before any LoadBlob.
  void CacheTreePacks(uint64_t max_bytes);

  // Stores a blob unless the repository already has it; returns whether it
  // was new. Blobs go to packs that are uploaded once full (in the
  // background: an upload's error comes from a later SaveBlob or Flush).
  Result<bool> SaveBlob(BlobType type, const Id& id, ByteView plaintext);
  bool HasBlob(BlobType type, const Id& id);

  // Uploads open packs, waits for every upload, then writes one index file
  // for all packs stored since the last Flush. Call before saving a
  // snapshot that refers to the blobs. Fails with the first upload error,
  // if any, and then writes no index file.
  Status Flush();

  Result<Snapshot> LoadSnapshot(const Id& id);
  Result<Id> SaveSnapshot(const Snapshot& snapshot);
  // Every snapshot, in the backend's listing order (read a few at a time).
  // A snapshot that cannot be read fails the whole call with an error
  // naming it (the first in that order).
  Result<std::vector<std::pair<Id, Snapshot>>> LoadAllSnapshots();
  // Reads the snapshots `ids` a few at a time and hands each outcome to
  // `use`, in the order of `ids`, on the caller's thread; one that cannot
  // be read does not stop the others.
  void LoadSnapshots(const std::vector<Id>& ids,
                     const std::function<void(const Id&, Result<Snapshot>&&)>& use);

  Result<Tree> LoadTree(const Id& id);
  // Encodes and stores a tree; returns its id.
  Result<Id> SaveTree(const Tree& tree);

  // Packs written since the last Flush (whose index is not written yet).
  size_t UnindexedPackCount();

  // Stats of what SaveBlob stored since opening (for backup summaries).
  struct WriteStats {
    uint64_t data_blobs = 0, tree_blobs = 0;
    uint64_t data_added = 0;         // plaintext bytes of new blobs
    uint64_t data_added_packed = 0;  // bytes written to packs
  };
  WriteStats write_stats();

  // Target size of new packs; packs are written once they reach it.
  void set_pack_size(size_t bytes) { pack_size_ = bytes; }
  // Where packs fill before upload: by default the backend's
  // TemporaryFolder (a local repository's own, so a full pack is linked in
  // place, not copied), else (empty) $TMPDIR, else /tmp.
  void set_temp_dir(std::string dir);
  // The backend is asked once, when a pack is first made (not on every
  // open: most readers never write).
  const std::string& temp_dir();
  // How new blobs are compressed (format 2 only).
  void set_compression(CompressionMode mode) { compression_ = mode; }
  // The zstd level SaveBlob uses: 0 in format 1.
  int blob_zstd_level() const { return config_.version >= 2 ? BlobCompressionLevel(compression_) : 0; }

 private:
  Repository(std::unique_ptr<Backend> backend, CryptoKey key, Id key_id, RepoConfig config);
  std::unordered_set<Id>& Pending(BlobType type) {
    return type == BlobType::kTree ? pending_tree_ : pending_data_;
  }
  // Whether the index has the blob (pending ones aside), without mu_.
  bool Indexed(BlobType type, const Id& id) const;
  std::unique_ptr<PackWriter> TakeWriter(BlobType type);
  void ReturnWriter(BlobType type, std::unique_ptr<PackWriter> writer);
  // The tree pack from the cache, or read into it; null when there is no
  // cache or the pack does not qualify.
  std::shared_ptr<const Bytes> CachedTreePack(const Id& pack);
  // Reads a file, checks its name against its hash and decrypts it.
  Result<Bytes> LoadSealed(FileType type, const Id& id);
  // LoadIndexFile's second half: decodes index/<id>'s decrypted bytes.
  Result<IndexFile> DecodeIndexPlaintext(const Id& id, Bytes plain);
  // Finishes a full pack and hands it to an upload thread, waiting while
  // kMaxUploads are in flight. Fails with an earlier upload's error.
  Status WritePack(PackWriter& writer);
  // Stores a pack, then moves its blobs from pending to the index (on an
  // upload thread); a failure is kept in upload_error_.
  void Upload(std::shared_ptr<PackFile> pack);
  // Blocks until no upload is in flight; returns the first upload error.
  Status WaitUploads();
  Status SaveIndexFile(const IndexFile& file);
  // Seals `buf` in place (kNonceSize bytes of room, then the file's
  // unpacked encoding) and stores it under the hash of the result.
  Result<Id> StoreSealed(FileType type, Bytes& buf);

  std::unique_ptr<Backend> backend_;
  std::unique_ptr<PackCache> tree_packs_;  // see CacheTreePacks
  CryptoKey key_;
  Id key_id_;
  RepoConfig config_;
  size_t pack_size_ = kDefaultPackSize;
  std::once_flag temp_dir_once_;  // temp_dir_ settled (set, or asked of the backend)
  std::string temp_dir_;
  CompressionMode compression_ = CompressionMode::kAuto;

  std::mutex mu_;  // guards everything below
  // The index is read far more than it changes, and a lookup in a spilled
  // table reads its file: lookups hold index_mu_ shared and not mu_, so
  // threads do not queue behind each other's reads. A change holds mu_ and
  // index_mu_ exclusively, so a reader holding either sees no change.
  mutable std::shared_mutex index_mu_;
  Index index_;
  // Blobs in packs not yet written, so they are not stored twice.
  std::unordered_set<Id> pending_data_, pending_tree_;
  // Idle pack writers per blob type; a saving thread takes one, so several
  // packs fill in parallel.
  std::vector<std::unique_ptr<PackWriter>> idle_data_, idle_tree_;
  size_t data_writers_ = 0, tree_writers_ = 0;  // writers in existence, idle or not
  std::condition_variable writer_cv_;
  std::vector<IndexedPack> unindexed_packs_;
  size_t unindexed_blobs_ = 0;
  WriteStats stats_;
  size_t uploads_ = 0;  // packs handed to uploader_ and not done
  std::condition_variable upload_cv_;
  // The first upload that failed; every later SaveBlob and Flush fails.
  std::optional<Error> upload_error_;
  // Made with the first full pack (readers never need it). Declared last:
  // destroyed first, so uploads end before what they use goes.
  std::unique_ptr<ThreadPool> uploader_;
};

}  // namespace stash
