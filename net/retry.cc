#include "net/retry.h"

#include <algorithm>

namespace stash::http {

std::chrono::milliseconds RetryPolicy::DelayBefore(int retry, double unit) const {
  double delay = static_cast<double>(base_delay.count());
  for (int i = 1; i < retry && delay < max_delay.count(); ++i) delay *= 2;
  delay = std::min(delay, static_cast<double>(max_delay.count()));
  unit = std::clamp(unit, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<long long>(delay * (0.5 + 0.5 * unit)));
}

}  // namespace stash::http
