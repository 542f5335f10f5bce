// stash: a restic-compatible backup tool and Stash server, in one binary.
#include <malloc.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "base/version.h"
#include "cmd/args.h"
#include "cmd/commands.h"
#include "cmd/common.h"
#include "cmd/help.h"

namespace stash::cli {
namespace {

// Flags of every command that opens a repository.
std::vector<FlagSpec> RepositoryFlags() {
  return {
      {"repo", 'r', true, "repository to back up to or restore from (RESTIC_REPOSITORY)"},
      {"repository-file", 0, true, "file to read the repository location from"},
      {"password-file", 'p', true, "file to read the repository password from"},
      {"password-command", 0, true, "shell command to obtain the repository password from"},
      {"key-hint", 0, true, "key ID of key to try decrypting first (RESTIC_KEY_HINT)"},
      {"cacert", 0, true, "file to load root certificates from (in addition to the system's)"},
      {"no-lock", 0, false, "do not lock the repository"},
      {"compression", 0, true, "compression mode (format 2 only): auto, off or max (RESTIC_COMPRESSION)"},
      {"no-cache", 0, false, "do not use a local cache (accepted; there is none)"},
      {"cache-dir", 0, true, "accepted for compatibility; there is no local cache"},
      {"cleanup-cache", 0, false, "accepted for compatibility"},
  };
}

// Flags every command takes.
std::vector<FlagSpec> GeneralFlags() {
  return {
      {"json", 0, false, "set output mode to JSON for commands that support it"},
      {"quiet", 'q', false, "do not output comprehensive progress report"},
      {"verbose", 'v', false, "be verbose"},
  };
}

std::vector<FlagSpec> GlobalFlags() {
  auto flags = RepositoryFlags();
  for (auto& f : GeneralFlags()) flags.push_back(f);
  flags.push_back({"help", 'h', false, "help for stash"});
  return flags;
}

std::vector<Command> AllCommands() {
  return {InitCommand(),   BackupCommand(), SnapshotsCommand(), LsCommand(),
          CatCommand(),    RestoreCommand(), ForgetCommand(),   PruneCommand(),
          CheckCommand(),  UnlockCommand(), KeyCommand(),       StatsCommand(),
          DumpCommand(),   FindCommand(),   TagCommand(),       DiffCommand(),
          CopyCommand(),   ApiserverCommand(), OperatorCommand(), RecoverCommand(),
          ScaledownCommand(),
          CreateBackupSessionCommand(), RunBackupCommand(), RestoreSessionCommand(), UpdateStatusCommand(),
          BackupPgCommand(), RestorePgCommand()};
}

// `stash help CMD` and `stash CMD --help` name a command; nullptr for none.
const Command* HelpTopic(const std::vector<Command>& commands, const Args& args) {
  std::string topic = args.command();
  if (topic == "help" && !args.positional().empty()) topic = args.positional().front();
  for (const auto& c : commands) {
    if (c.name == topic) return &c;
  }
  return nullptr;
}

}  // namespace

int Main(const std::vector<std::string>& argv) {
  auto commands = AllCommands();
  std::map<std::string, std::vector<FlagSpec>> specs = {{"help", {}}, {"version", {}}};
  for (const auto& c : commands) specs[c.name] = c.flags;
  auto args = ParseArgs(argv, GlobalFlags(), specs);
  if (!args.ok()) {
    // As cobra prints it for restic: "unknown flag: --foo", no "Fatal:".
    std::cerr << args.error().message() << "\n";
    return kExitError;
  }
  const std::string& name = args->command();
  if (name.empty() || name == "help" || args->Has("help")) {
    if (const Command* c = HelpTopic(commands, *args)) {
      std::cout << CommandHelp(*c, GeneralFlags(), RepositoryFlags());
      return kExitOk;
    }
    std::cout << MainHelp(commands, GlobalFlags());
    return name.empty() && !args->Has("help") ? kExitError : kExitOk;
  }
  if (name == "version") {
    std::cout << "stash " STASH_VERSION " (restic repository format 1 and 2)\n";
    return kExitOk;
  }
  auto globals = ReadGlobals(*args);
  if (!globals.ok()) return Fatal(globals.error());
  for (const auto& c : commands) {
    if (c.name == name) return c.run(*args, *globals);
  }
  return Fatal("unknown command \"" + name + "\"");
}

}  // namespace stash::cli

int main(int argc, char** argv) {
  // Chunks and packs are megabytes each: a fixed mmap threshold hands them
  // back to the system when freed instead of letting the heap keep them,
  // which keeps peak RSS flat over long backups.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  mallopt(M_ARENA_MAX, 4);
  std::vector<std::string> args(argv + 1, argv + argc);
  return stash::cli::Main(args);
}
