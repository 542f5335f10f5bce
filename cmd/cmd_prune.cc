// stash prune: placeholder until the command lands; refuses clearly.
#include "cmd/commands.h"

namespace stash::cli {
namespace {

int RunPrune(const Args&, const Globals&) { return Fatal("prune is not implemented yet"); }

}  // namespace

Command PruneCommand() { return {"prune", "Remove unneeded data from the repository", {}, RunPrune}; }

}  // namespace stash::cli
