#include "cmd/commands.h"
namespace stash::cli {
Command DiffCommand() { return {"diff", "todo", {}, [](const Args&, const Globals&) { return Fatal("not implemented"); }}; }
}  // namespace stash::cli
