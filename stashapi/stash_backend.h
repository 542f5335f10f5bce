// A Stash Repository's spec.backend, turned into a restic repository
// location and the settings to open it with.
//
// Stash 0.8.3 ran restic with RESTIC_REPOSITORY built from the provider
// block and exported every key of the storage Secret as an environment
// variable (docs/stash-objects.md, sections 2 and 3). We do the same without a process:
// RepositoryLocation() builds the location, SettingsFromSecret() turns the
// Secret into BackendOptions, and OpenBackend() takes both.
//
// Repositories created by a 0.8.3 sidecar already hold the full prefix
// (user prefix + smart prefix), and for s3 it starts with the bucket name;
// Stash's apiserver trimmed that bucket before building the URL. We do too,
// but only for Repositories carrying the sidecar's `workload-kind` label, so
// a user whose own prefix happens to start with the bucket name keeps it.
#pragma once

#include <map>
#include <string>

#include "base/result.h"
#include "storage/backends/backend_options.h"

namespace stash {

// spec.backend.<provider>, all fields strings as in objectstore-api v1.
struct StashBackend {
  std::string type;  // "local", "s3", "gcs", "azure", "swift", "b2", "rest"; "" when none is set
  // local: a VolumeSource inlined, plus mountPath and subPath.
  std::string host_path, mount_path, sub_path;
  // s3: endpoint, bucket, prefix, region; gcs/b2: bucket, prefix;
  // azure/swift: container, prefix; rest: url.
  std::string endpoint, bucket, container, prefix, region, url;
  bool sidecar_created = false;  // the Repository has a `workload-kind` label

  bool operator==(const StashBackend&) const = default;
};

// A local backend's folder: hostPath.path/subPath, or mountPath/subPath
// without hostPath (docs/decisions.md, "7. Local backends"). kInvalid for relative paths
// and a subPath that leaves its volume.
Result<std::string> LocalRepositoryPath(const StashBackend& backend);

// The restic location: "/path", "s3:<endpoint>/<bucket>/<prefix>",
// "gs:<bucket>:/<prefix>", "azure:<container>:/<prefix>",
// "swift:<container>:/<prefix>", "b2:<bucket>:<prefix>", "rest:<url>" (with
// REST_SERVER_USERNAME/PASSWORD from `secret` as user info). kInvalid names
// a missing field.
Result<std::string> RepositoryLocation(const StashBackend& backend,
                                       const std::map<std::string, std::string>& secret);

// Settings read from the Secret's keys (restic's variable names), plus the
// s3 region from the spec and CA_CERT_DATA as an extra trusted CA.
BackendOptions SettingsFromSecret(const StashBackend& backend,
                                  const std::map<std::string, std::string>& secret);

}  // namespace stash
