// Opening a backend from a restic repository location.
//
// The location picks the backend by its scheme, as restic does ("s3:...",
// "rest:...", "azure:...", a plain path for local).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "storage/backends/backend.h"
#include "storage/backends/backend_options.h"

namespace stash {

// kInvalid for an empty or malformed location or missing credentials,
// kUnsupported for a scheme we have no backend for (sftp, rclone).
Result<std::unique_ptr<Backend>> OpenBackend(const std::string& location,
                                             const BackendOptions& options);

}  // namespace stash
