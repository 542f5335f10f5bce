// Restorer: writes a snapshot (or one folder of it) back to disk.
//
// Everything is created relative to folder descriptors opened without
// following symlinks, so a hostile tree (names like "..", a symlink named
// like a later folder, absolute link targets) can never make us write
// outside the target folder.
//
// One thread walks the trees in order and creates every entry; regular
// files are filled by a small pool of threads that read the blobs of many
// files pack by pack (see restore_files.h). Warnings come back in walk
// order, as a single-threaded restore would report them.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/filter.h"
#include "storage/repository.h"

namespace stash {

struct RestoreOptions {
  std::string target;      // folder to restore into (created if missing)
  std::string subfolder;   // path inside the snapshot, "" or "/" for all
  PathFilter include, exclude;
  bool restore_owner = false;  // chown: only works as root
  size_t threads = 0;          // threads writing file contents; 0: 2 to 4 by CPUs
};

struct RestoreSummary {
  uint64_t files = 0, dirs = 0, other = 0;
  uint64_t bytes = 0;
};

// A node that could not be restored; the rest of the restore goes on.
struct RestoreWarning {
  std::string path;
  std::string message;
};

struct RestoreResult {
  RestoreSummary summary;
  std::vector<RestoreWarning> warnings;
};

// Fails when the target folder or the subfolder cannot be used. A tree or
// data blob that is missing or corrupt is a warning naming the folder or
// file it damages (RestoreWarning paths are on disk, under the target);
// every other file is restored.
Result<RestoreResult> Restore(Repository& repo, const Snapshot& snapshot,
                              const RestoreOptions& options);

// Finds the tree of a folder inside a snapshot ("/a/b" or "a/b").
Result<Id> FindSubtree(Repository& repo, const Id& root, const std::string& subfolder);

}  // namespace stash
