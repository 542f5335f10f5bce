// Where one host's restic repository is: the Restic's backend with the
// workload's smart prefix joined to the user's prefix (docs/stash-objects.md,
// section 3), as Stash 0.8.3's sidecar placed it.
//
// A local backend is read where the sidecar mounts it: <mountPath>/<smart
// prefix> (the volume already points at hostPath/subPath). The Repository
// object records the full prefix instead (subPath/<smart prefix> for local;
// <bucket>/<prefix>/<smart prefix> for s3, as 0.8.3 wrote it; prefix/<smart
// prefix> for the others), from which the Snapshot apiserver finds the same
// folder or objects.
#pragma once

#include <map>
#include <string>

#include "base/result.h"
#include "kube/object.h"
#include "stashapi/stash_backend.h"

namespace stash::agent {

// The restic location the sidecar opens. kInvalid naming a missing field.
Result<std::string> HostLocation(const StashBackend& backend, const std::string& smart_prefix,
                                 const std::map<std::string, std::string>& secret);

// The value of the prefix field the Repository object records: subPath for
// local, url for rest, prefix for the others.
std::string FullPrefix(const StashBackend& backend, const std::string& smart_prefix);

// The Repository's spec.backend: the Restic's `backend` JSON with that
// field replaced by FullPrefix.
std::string RepositoryBackendJson(const kube::Json& restic_backend, const StashBackend& backend,
                                  const std::string& smart_prefix);

}  // namespace stash::agent
