// How snapshots are shown to people, in restic 0.14's exact text: the
// snapshot table of `snapshots` and `forget`, the group header above it
// and the snapshot time `ls` prints. One printer, so every command that
// lists snapshots lines up with restic byte for byte.
#pragma once

#include <string>
#include <vector>

#include "engine/forget.h"
#include "engine/snapshot_select.h"

namespace stash::cli {

// restic's PrintSnapshots: oldest first (stable on ties), times converted
// to this machine's local zone (TZ) as "2006-01-02 15:04:05", Host and Tags
// at least 10 wide ("Tags  " 6 wide when compact), a Reasons column when
// `reasons` are given and not compact, no Paths when compact, a blank line
// between rows once any snapshot has several paths, "N snapshots" below.
void PrintSnapshotTable(std::vector<SnapshotEntry> list, const std::vector<KeepReason>* reasons,
                        bool compact);

// restic's PrintSnapshotGroupHeader: "snapshots for (host [h], paths [/a, /b]):".
void PrintSnapshotGroupHeader(const SnapshotGroup& group);

// Go's time.Time.String() of a snapshot time as restic decoded it:
// "2024-01-04 03:04:05 -0500 EST" when the stored offset is the local
// zone's at that instant (its abbreviation), "... +0000 UTC" for a UTC
// time, "... +1245 +1245" for any other offset; fractions trimmed of zeros.
std::string GoTimeString(const Timestamp& t);

}  // namespace stash::cli
