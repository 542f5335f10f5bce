// When and how long the HTTP client waits before it tries a request again.
//
// Transport failures (refused or reset connections, timeouts, a peer that
// hangs up mid-response) and server-side statuses (5xx, and 429 which asks
// for exactly this) are worth another try: the server or the path to it may
// recover. Other 4xx answers are the server's considered reply and are
// returned at once. Every repository file is written whole under a
// content-derived name, so repeating a write is safe.
#pragma once

#include <chrono>

namespace stash::http {

struct RetryPolicy {
  int max_attempts = 10;  // the first try included
  std::chrono::milliseconds base_delay{500};
  std::chrono::milliseconds max_delay{30000};

  static bool IsRetryableStatus(int status) { return status >= 500 || status == 429; }

  // The pause before retry number `retry` (1 = the second attempt): the base
  // delay doubled per retry, capped at max_delay, then scaled by a jitter
  // factor in [0.5, 1.0] from `unit` in [0, 1) so that many threads failing
  // together do not come back in lockstep.
  std::chrono::milliseconds DelayBefore(int retry, double unit) const;
};

}  // namespace stash::http
