#include "cmd/commands.h"
namespace stash::cli {
Command FindCommand() { return {"find", "todo", {}, [](const Args&, const Globals&) { return Fatal("not implemented"); }}; }
}  // namespace stash::cli
