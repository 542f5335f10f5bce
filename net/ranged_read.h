// Ranged reads of one object, shared by the HTTP backends (rest, s3,
// azure, gs, b2, swift): Backend::Read reads `length` bytes at `offset`
// (length 0: to the end) and treats a short answer as a truncated file.
#pragma once

#include <cstdint>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "net/http_client.h"

namespace stash::http {

// The Range header value ("bytes=10-19", "bytes=10-"); "" when the whole
// object is wanted (offset and length 0), so no header is sent.
std::string RangeValue(uint64_t offset, uint64_t length);

// Whether `response` answers a ranged GET (200, 206 or 416); other statuses
// are errors for the backend to word.
inline bool IsRangedAnswer(const HttpResponse& r) {
  return r.status == 200 || r.status == 206 || r.status == 416;
}

// The bytes asked for from a ranged answer: a 206, or a 200 with the whole
// object from a server that ignores Range (the range is cut out of it), or
// a 200 with just the range (swifttest does that). A 416 or fewer bytes
// than asked is kCorrupt: "<backend>: <what>: file is truncated ...".
Result<Bytes> RangedBody(HttpResponse& response, uint64_t offset, uint64_t length,
                         const std::string& backend, const std::string& what);

}  // namespace stash::http
