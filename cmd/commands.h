// One function per `stash` command. Each returns the process exit code.
#pragma once

#include "cmd/args.h"
#include "cmd/common.h"

namespace stash::cli {

int RunInit(const Args& args, const Globals& g);
int RunBackup(const Args& args, const Globals& g);
int RunSnapshots(const Args& args, const Globals& g);
int RunLs(const Args& args, const Globals& g);
int RunCat(const Args& args, const Globals& g);
int RunRestore(const Args& args, const Globals& g);

}  // namespace stash::cli
