// stash unlock: placeholder until the command lands; refuses clearly.
#include "cmd/commands.h"

namespace stash::cli {
namespace {

int RunUnlock(const Args&, const Globals&) { return Fatal("unlock is not implemented yet"); }

}  // namespace

Command UnlockCommand() { return {"unlock", "Remove locks other processes created", {}, RunUnlock}; }

}  // namespace stash::cli
