// Choosing snapshots the way restic's --host/--tag/--path and "latest" do.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "engine/snapshot_filter.h"
#include "storage/repository.h"

namespace stash {

using SnapshotEntry = std::pair<Id, Snapshot>;

// Sorts oldest first (ties by id), as restic lists snapshots.
void SortByTime(std::vector<SnapshotEntry>& snapshots);

// "latest" (the newest one that matches the filter), a full id, or a unique
// prefix of one. kNotFound / kConflict name what was asked for.
Result<SnapshotEntry> FindSnapshot(Repository& repo, std::string_view spec,
                                   const SnapshotFilter& filter);

}  // namespace stash
