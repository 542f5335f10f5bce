// A connection's bytes as the HTTPS server reads them (RequestReader):
//   input: one byte choosing the piece size, then what the client sent.
// Every request that comes out must have a decoded path; the reader must
// stop at a rejection and never return more requests than were sent.
#include <algorithm>
#include <string>

#include "fuzz_util.h"
#include "net/server/request_reader.h"

using stash::server::RequestReader;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t step = 1 + data[0] % 64;
  std::string_view text = FuzzText(data + 1, size - 1);
  RequestReader reader(512, 2048);  // small limits, so inputs reach them
  size_t requests = 0;
  bool spent = false;
  for (size_t at = 0; at < text.size() && !spent; at += step) {
    reader.input().append(text.substr(at, step));
    while (true) {
      auto next = reader.Next();
      if (next.kind == RequestReader::Kind::kNeedMore) break;
      if (next.kind != RequestReader::Kind::kRequest) {
        FUZZ_CHECK(next.kind != RequestReader::Kind::kReject || next.status >= 400);
        spent = true;
        break;
      }
      ++requests;
      FUZZ_CHECK(!next.request.method.empty());
      FUZZ_CHECK(requests <= text.size() / 14 + 1);  // "GET / HTTP/1.1\r\n\r\n" is 18 bytes at least
    }
  }
  if (!spent) {
    auto last = reader.Eof();
    FUZZ_CHECK(last.kind != RequestReader::Kind::kNeedMore);
  }
  return 0;
}
