// The `stash` commands. Each cmd_*.cc file defines one (or a family) and
// describes it with a Command: name, one-line summary, flags, entry point.
// main.cc only lists them, so adding a command touches its own file and
// the list below.
#pragma once

#include <string>
#include <vector>

#include "cmd/args.h"
#include "cmd/common.h"
#include "engine/prune.h"

namespace stash::cli {

struct Command {
  std::string name;
  std::string summary;
  std::vector<FlagSpec> flags;
  // Returns the process exit code.
  int (*run)(const Args& args, const Globals& globals);
  // The arguments after the command name in help, as restic's Usage line
  // shows them ("[flags] snapshotID file").
  std::string usage = "[flags]";
  // False for commands that never open a repository: their help leaves out
  // the repository flags.
  bool uses_repository = true;
};

Command InitCommand();
Command BackupCommand();
Command SnapshotsCommand();
Command LsCommand();
Command CatCommand();
Command RestoreCommand();
Command ForgetCommand();
Command PruneCommand();
Command CheckCommand();
Command UnlockCommand();
Command KeyCommand();
Command StatsCommand();
Command DumpCommand();
Command FindCommand();
Command TagCommand();
Command DiffCommand();
Command CopyCommand();
Command ApiserverCommand();
Command OperatorCommand();
Command RecoverCommand();
Command ScaledownCommand();
// The v1beta1 pod commands (cmd_v1beta1.cc).
Command CreateBackupSessionCommand();
Command RunBackupCommand();
Command RestoreSessionCommand();
Command UpdateStatusCommand();
Command BackupPgCommand();
Command RestorePgCommand();

// The Stash sidecar (cmd_sidecar.cc): `backup` and `check` given
// --restic-name run these instead of restic's commands.
int RunSidecarBackup(const Args& args);
int RunResticCheck(const Args& args);
std::vector<FlagSpec> SidecarBackupFlags();
std::vector<FlagSpec> ResticCheckFlags();

// Prune's flags and options, shared with `forget --prune`.
std::vector<FlagSpec> PruneFlags();
Result<PruneOptions> PruneOptionsFromArgs(const Args& args);
// Prunes an opened repository the caller has locked exclusively.
int RunPruneOn(Repository& repo, const PruneOptions& options, const Globals& g);

}  // namespace stash::cli
