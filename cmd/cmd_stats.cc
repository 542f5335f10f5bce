// stash stats: placeholder until the command lands; refuses clearly.
#include "cmd/commands.h"

namespace stash::cli {
namespace {

int RunStats(const Args&, const Globals&) { return Fatal("stats is not implemented yet"); }

}  // namespace

Command StatsCommand() { return {"stats", "Scan the repository and show basic statistics", {}, RunStats}; }

}  // namespace stash::cli
