#include "net/ranged_read.h"

#include <algorithm>

namespace stash::http {

std::string RangeValue(uint64_t offset, uint64_t length) {
  if (offset == 0 && length == 0) return "";
  std::string range = "bytes=" + std::to_string(offset) + "-";
  if (length > 0) range += std::to_string(offset + length - 1);
  return range;
}

Result<Bytes> RangedBody(HttpResponse& response, uint64_t offset, uint64_t length,
                         const std::string& backend, const std::string& what) {
  if (response.status == 416) {
    return Corrupt(backend + ": " + what + ": file is truncated (nothing at offset " +
                   std::to_string(offset) + ")");
  }
  Bytes body = std::move(response.body);
  // A whole object is longer than the range when offset > 0; exactly
  // `length` bytes can only be the range itself.
  bool whole = response.status == 200 && !(length > 0 && body.size() == length);
  // Nothing at all from an open-ended range past the start: the file ends
  // at or before `offset` (the caller can tell which by its size).
  bool nothing = length == 0 && offset > 0 && body.empty();
  if (nothing || (whole && offset > body.size())) {
    return Corrupt(backend + ": " + what + ": file is truncated (" + std::to_string(body.size()) +
                   " bytes, nothing at offset " + std::to_string(offset) + ")");
  }
  if (whole && offset > 0) {
    body.erase(body.begin(), body.begin() + static_cast<ptrdiff_t>(std::min<uint64_t>(offset, body.size())));
  }
  if (whole && length > 0 && body.size() > length) body.resize(length);
  if (length > 0 && body.size() != length) {
    return Corrupt(backend + ": " + what + ": file is truncated (got " + std::to_string(body.size()) +
                   " bytes at offset " + std::to_string(offset) + ", wanted " +
                   std::to_string(length) + ")");
  }
  return body;
}

}  // namespace stash::http
