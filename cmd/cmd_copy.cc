#include "cmd/commands.h"
namespace stash::cli {
Command CopyCommand() { return {"copy", "todo", {}, [](const Args&, const Globals&) { return Fatal("not implemented"); }}; }
}  // namespace stash::cli
