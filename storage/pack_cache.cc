#include "storage/pack_cache.h"

namespace stash {

std::shared_ptr<const Bytes> PackCache::Get(const Id& pack, uint64_t length,
                                            const std::function<Result<Bytes>()>& read) {
  if (length == 0 || length > max_bytes_) return nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed_.count(pack)) return nullptr;
    for (auto it = lru_.begin(); it != lru_.end(); ++it) {
      if (it->first == pack && it->second->size() >= length) {
        lru_.splice(lru_.begin(), lru_, it);
        return lru_.front().second;
      }
    }
  }
  auto bytes = read();
  std::lock_guard<std::mutex> lock(mu_);
  if (!bytes.ok() || bytes->size() != length) {
    failed_.insert(pack);
    return nullptr;
  }
  auto shared = std::make_shared<const Bytes>(std::move(*bytes));
  lru_.emplace_front(pack, shared);
  bytes_ += length;
  while (bytes_ > max_bytes_ && lru_.size() > 1) {
    bytes_ -= lru_.back().second->size();
    lru_.pop_back();
  }
  return shared;
}

}  // namespace stash
