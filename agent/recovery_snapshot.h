// Which snapshot a Recovery restores a path from, as Stash 0.8.3 asked
// restic for it (`restore <id|latest> --path P --host H`):
//
// - a Recovery naming a snapshot restores every path from that snapshot
//   (restic ignores --path and --host once given an id);
// - otherwise each path comes from the newest snapshot of the Repository's
//   host (any host for a Repository without one) whose paths include it.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "engine/snapshot_select.h"

namespace stash::agent {

// `short_id` is the id prefix of the named snapshot, "" for the newest.
// kNotFound naming what was looked for; kConflict when the prefix fits
// several snapshots.
Result<SnapshotEntry> ChooseSnapshot(const std::vector<SnapshotEntry>& snapshots, const std::string& short_id,
                                     const std::string& host, const std::string& path);

// Where `path` lies inside a snapshot's tree. restic 0.9 and later record
// the whole path ("/source/data"); earlier versions, which 0.8.3 used,
// recorded only the last element ("/data"). Returns the candidates in the
// order to try them.
std::vector<std::string> SubtreeCandidates(const std::string& path);

}  // namespace stash::agent
