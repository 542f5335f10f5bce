#include "base/result.h"

namespace stash {

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNotFound: return "not found";
    case ErrorKind::kCorrupt: return "corrupt";
    case ErrorKind::kAuth: return "authentication failed";
    case ErrorKind::kIO: return "I/O error";
    case ErrorKind::kInvalid: return "invalid";
    case ErrorKind::kConflict: return "conflict";
    case ErrorKind::kUnsupported: return "unsupported";
  }
  return "error";
}

}  // namespace stash
