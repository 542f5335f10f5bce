// Before a Recovery gets a Job, the operator makes sure that the snapshot
// it names is in its repository, so that a mistyped name is an
// InvalidRecovery at once instead of a Job that fails.
//
// The look-up lists the repository's snapshot files, whose names are the
// snapshots' ids; it needs no password (so a wrong password is left to the
// Job, which reports it). It is best effort: the operator may not reach
// where a local backend keeps its data (a hostPath on another node), and a
// backend may be down; only a repository that is there (it has a config
// file) and lists no snapshot with that id prefix counts as missing.
#pragma once

#include <map>
#include <string>

#include "stashapi/stash_backend.h"

namespace stash::op {

enum class SnapshotPresence { kFound, kMissing, kUnknown };

struct SnapshotLookup {
  SnapshotPresence presence = SnapshotPresence::kUnknown;
  std::string detail;  // why it is unknown; the repository location when missing
};

SnapshotLookup LookUpSnapshot(const StashBackend& backend, const std::map<std::string, std::string>& secret,
                              const std::string& short_id);

}  // namespace stash::op
