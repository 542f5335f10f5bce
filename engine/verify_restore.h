// Verifying a restore (restore --verify): every regular file the restore
// selected is read back from disk and compared, blob by blob, with the
// snapshot, as restic's VerifyFiles does.
#pragma once

#include <vector>

#include "base/result.h"
#include "engine/restorer.h"

namespace stash {

struct VerifyResult {
  uint64_t files = 0;                     // files read back
  std::vector<RestoreWarning> problems;  // one per file that differs (path on disk)
};

// Uses the same subfolder and include/exclude selection as Restore. The
// index must be loaded.
Result<VerifyResult> VerifyRestore(Repository& repo, const Snapshot& snapshot,
                                   const RestoreOptions& options);

}  // namespace stash
