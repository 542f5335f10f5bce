// stash check: placeholder until the command lands; refuses clearly.
#include "cmd/commands.h"

namespace stash::cli {
namespace {

int RunCheck(const Args&, const Globals&) { return Fatal("check is not implemented yet"); }

}  // namespace

Command CheckCommand() { return {"check", "Check the repository for errors", {}, RunCheck}; }

}  // namespace stash::cli
