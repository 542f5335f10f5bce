// stash key: placeholder until the command lands; refuses clearly.
#include "cmd/commands.h"

namespace stash::cli {
namespace {

int RunKey(const Args&, const Globals&) { return Fatal("key is not implemented yet"); }

}  // namespace

Command KeyCommand() { return {"key", "Manage keys (passwords)", {}, RunKey}; }

}  // namespace stash::cli
