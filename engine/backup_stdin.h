// BackupStream: restic's `backup --stdin`: the bytes of a stream saved as
// one file in a new snapshot.
//
// The file is "/" + name (cleaned), so "stdin" gives a snapshot whose paths
// are ["/stdin"] and whose root tree holds just the file; "a/b/x" puts it
// under made-up folders a and b. As restic's reader file system has it, the
// file has mode 0644 and the snapshot's time as mtime and ctime, the folders
// mode 0755 and the current time, all owned by the running user (no user or
// group names). No parent snapshot is used. An empty stream is an error
// ("read /stdin: no data read"): the file is left out, and with nothing left
// the backup fails with "snapshot is empty".
#pragma once

#include <functional>
#include <string>

#include "base/result.h"
#include "engine/archiver.h"
#include "engine/chunker.h"
#include "storage/repository.h"

namespace stash {

// Reads `fd` to its end. Uses hostname, tags, time, with_atime,
// snapshot_excludes and the selection's name rules from `options`.
// `at_end`, when set, runs once the stream has ended and before anything
// is flushed or the snapshot saved: its error (a dump command that failed)
// fails the backup and leaves no snapshot and no index behind.
Result<BackupResult> BackupStream(Repository& repo, const ChunkerTables& chunker,
                                  const BackupOptions& options, int fd, const std::string& name,
                                  const std::function<Status()>& at_end = nullptr);

}  // namespace stash
