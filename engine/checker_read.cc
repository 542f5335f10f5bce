// Checker, read-data phase: download packs and verify every byte, on a few
// threads. Workers touch only the backend (thread-safe by contract), the
// master key and the pack table, which nothing changes while they run.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "engine/checker.h"

namespace stash {
namespace {

bool Contains(const std::vector<PackedBlob>& list, const PackedBlob& b) {
  return std::any_of(list.begin(), list.end(), [&](const PackedBlob& x) {
    return x.type == b.type && x.id == b.id && x.offset == b.offset && x.length == b.length &&
           x.uncompressed_length == b.uncompressed_length;
  });
}

std::string BlobName(const PackedBlob& b) {
  return std::string(BlobTypeName(b.type)) + " blob " + b.id.Hex();
}

// Every indexed blob decrypts, decompresses and hashes to its id.
void CheckBlobs(const CryptoKey& key, ByteView pack, const std::vector<PackedBlob>& indexed,
                const std::string& name, std::vector<std::string>& errors) {
  for (const auto& b : indexed) {
    if (uint64_t{b.offset} + b.length > pack.size()) {
      errors.push_back(name + ": " + BlobName(b) + ": extends past the end of the pack");
      continue;
    }
    auto plain = OpenPackedBlob(key, pack.subspan(b.offset, b.length), b);
    if (!plain.ok()) errors.push_back(name + ": " + BlobName(b) + ": " + plain.error().message());
  }
}

// The header decrypts, parses, and lists exactly the indexed entries.
void CheckHeader(const CryptoKey& key, ByteView pack, const std::vector<PackedBlob>& indexed,
                 const std::string& name, std::vector<std::string>& errors) {
  auto header = ParsePackHeader(key, pack, pack.size());
  if (!header.ok()) {
    errors.push_back(name + ": " + header.error().message());
    return;
  }
  const uint8_t* t = pack.data() + pack.size() - 4;
  uint64_t actual = (uint32_t{t[0]} | uint32_t{t[1]} << 8 | uint32_t{t[2]} << 16 |
                     uint32_t{t[3]} << 24) + uint64_t{4};
  uint64_t want = PackHeaderSize(indexed);
  if (want != actual) {
    errors.push_back(name + ": pack header size does not match the index: want " +
                     std::to_string(want) + ", got " + std::to_string(actual));
  }
  for (const auto& b : *header) {
    if (!Contains(indexed, b)) {
      errors.push_back(name + ": " + BlobName(b) +
                       " is not contained in index or position is incorrect");
    }
  }
  for (const auto& b : indexed) {
    if (!Contains(*header, b)) {
      errors.push_back(name + ": " + BlobName(b) + " is in the index but not in the pack header");
    }
  }
}

// Unlike restic, a hash mismatch does not end the pack's check: going on
// names the damaged blob or header.
std::vector<std::string> VerifyPack(Backend& backend, const CryptoKey& key, const Id& id,
                                    const std::vector<PackedBlob>& indexed) {
  const std::string name = "pack " + id.Hex();
  auto bytes = backend.Read(FileType::kPack, id.Hex());
  if (!bytes.ok()) return {name + ": failed to download: " + bytes.error().message()};
  std::vector<std::string> errors;
  Id hash = Sha256(*bytes);
  if (hash != id) {
    errors.push_back(name + ": content does not match its name (sha256 is " + hash.Hex() + ")");
  }
  CheckBlobs(key, *bytes, indexed, name, errors);
  CheckHeader(key, *bytes, indexed, name, errors);
  return errors;
}

}  // namespace

CheckFindings Checker::ReadPacks(const std::vector<Id>& packs, int threads,
                                 const std::function<void(size_t)>& progress) {
  std::vector<std::vector<std::string>> results(packs.size());
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::condition_variable cv;
  size_t done = 0;
  Backend& backend = repo_.backend();
  const CryptoKey& key = repo_.master_key();
  auto worker = [&] {
    for (size_t i; (i = next++) < packs.size();) {
      const PackInfo* pack = FindPack(packs[i]);
      if (!pack) {
        results[i] = {"pack " + packs[i].Hex() + " is empty or not indexed"};
      } else {
        results[i] = VerifyPack(backend, key, packs[i], PackBlobs(*pack));
      }
      std::lock_guard lock(mu);
      ++done;
      cv.notify_one();
    }
  };
  size_t count = std::clamp<size_t>(static_cast<size_t>(std::max(threads, 1)), 1,
                                    std::max<size_t>(packs.size(), 1));
  std::vector<std::thread> pool;
  for (size_t i = 0; i < count; ++i) pool.emplace_back(worker);
  for (size_t reported = 0; reported < packs.size();) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done > reported; });
    reported = done;
    lock.unlock();
    if (progress) progress(reported);
  }
  for (auto& t : pool) t.join();
  CheckFindings out;
  for (auto& r : results) {
    for (auto& e : r) out.errors.push_back(std::move(e));
  }
  return out;
}

}  // namespace stash
