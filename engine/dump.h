// Dump: a file of a snapshot as its bytes, a folder as a tar or zip
// stream, the way `restic dump` writes them.
#pragma once

#include <functional>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "storage/repository.h"

namespace stash {

using DumpSink = std::function<Status(ByteView)>;

// Writes the contents of a file node blob by blob. The index must be loaded.
Status DumpFile(Repository& repo, const Node& file, const DumpSink& out);

// Writes everything below the tree `tree` (not the folder itself) as a tar
// stream in Go's archive/tar USTAR form, as restic 0.14 does: entry names are
// `prefix` + "/" + name without the leading "/", folders end in "/",
// modification times rounded to seconds, two zero blocks at the end.
// Names that do not fit USTAR get a PAX header.
Status DumpTar(Repository& repo, const Id& tree, const std::string& prefix, const DumpSink& out);

// The same entries as a zip archive, stored uncompressed as restic 0.14
// writes them (Go's archive/zip layout); symlinks hold their target as
// content. Archives over 4 GiB or 65535 entries (zip64) are refused.
Status DumpZip(Repository& repo, const Id& tree, const std::string& prefix, const DumpSink& out);

}  // namespace stash
