// The one snapshot filter behind every command's --host, --tag and --path
// (snapshots, forget, ls, restore, stats, backup's parent) with restic
// 0.14's rules: HasHostname, HasTagList and HasPaths.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "storage/snapshot.h"

namespace stash {

// restic's TagList: one --tag value split at commas, spaces trimmed:
// "a, b" -> {"a", "b"}, "" -> {""}.
using TagList = std::vector<std::string>;
TagList ParseTagList(std::string_view text);
// Go's fmt of a TagList: "[a, b]".
std::string TagListString(const TagList& list);

// restic's Snapshot.HasTags: the snapshot has every tag of `list`. An empty
// tag met before a missing one matches a snapshot without any tags, so
// --tag "" selects the untagged snapshots.
bool HasTags(const Snapshot& snapshot, const TagList& list);

struct SnapshotFilter {
  std::vector<std::string> hosts;  // any of them; none = every host
  std::vector<TagList> tags;       // any of the lists; none = every snapshot
  std::vector<std::string> paths;  // all of them, compared as written

  bool Empty() const { return hosts.empty() && tags.empty() && paths.empty(); }
};

// A filter from raw flag values (each --tag value is parsed as a TagList).
SnapshotFilter MakeSnapshotFilter(std::vector<std::string> hosts,
                                  const std::vector<std::string>& tag_values,
                                  std::vector<std::string> paths);

bool MatchesFilter(const Snapshot& snapshot, const SnapshotFilter& filter);

}  // namespace stash
