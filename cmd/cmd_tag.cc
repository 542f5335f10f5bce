#include "cmd/commands.h"
namespace stash::cli {
Command TagCommand() { return {"tag", "todo", {}, [](const Args&, const Globals&) { return Fatal("not implemented"); }}; }
}  // namespace stash::cli
