// stash unlock: remove stale locks, or every lock with --remove-all.
//
// Like restic it takes no lock itself: it exists to clear locks that keep
// other commands out.
#include <cstdio>

#include "cmd/commands.h"

namespace stash::cli {
namespace {

int RunUnlock(const Args& args, const Globals& g) {
  if (!args.positional().empty()) {
    return Fatal("unlock takes no arguments, got \"" + args.positional()[0] + "\"");
  }
  auto repo = OpenRepository(args, g);
  if (!repo.ok()) return Fatal(repo.error());
  auto removed = RemoveLocks(**repo, args.Has("remove-all"));
  if (!removed.ok()) return Fatal(removed.error());
  // restic 0.14 says "successfully removed locks"; newer versions give the
  // count, which scripts and people both find more useful.
  if (!g.quiet) std::printf("successfully removed %d locks\n", *removed);
  return kExitOk;
}

}  // namespace

Command UnlockCommand() {
  return {"unlock", "Remove locks other processes created",
          {{"remove-all", 0, false, "remove all locks, even non-stale ones"}}, RunUnlock};
}

}  // namespace stash::cli
