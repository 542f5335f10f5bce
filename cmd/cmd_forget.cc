// stash forget: placeholder until the command lands; refuses clearly.
#include "cmd/commands.h"

namespace stash::cli {
namespace {

int RunForget(const Args&, const Globals&) { return Fatal("forget is not implemented yet"); }

}  // namespace

Command ForgetCommand() { return {"forget", "Remove snapshots from the repository", {}, RunForget}; }

}  // namespace stash::cli
