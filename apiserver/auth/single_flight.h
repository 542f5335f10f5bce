// SingleFlight: concurrent calls for one key share one call. Many requests
// arriving at once with the same new token make one TokenReview, not one
// each; the others wait for its answer, which they would have waited for
// anyway. Best effort: a caller that arrives just after a call ended makes
// a new one (the caches in front of this catch most of those).
#pragma once

#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace stash::apiserver {

template <class V>
class SingleFlight {
 public:
  // What `call` returns, called once for all callers of `key` that arrive
  // while it runs.
  V Do(const std::string& key, const std::function<V()>& call) {
    std::shared_ptr<std::promise<V>> leader;
    std::shared_future<V> answer;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = running_.find(key);
      if (it != running_.end()) {
        answer = it->second;
        ++joined_;
      } else {
        leader = std::make_shared<std::promise<V>>();
        answer = leader->get_future().share();
        running_.emplace(key, answer);
      }
    }
    if (!leader) return answer.get();
    V value = call();
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_.erase(key);
    }
    leader->set_value(value);
    return value;
  }

  // Callers so far that waited for another's call instead of making one.
  size_t joined() const {
    std::lock_guard<std::mutex> lock(mu_);
    return joined_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_future<V>> running_;
  size_t joined_ = 0;
};

}  // namespace stash::apiserver
