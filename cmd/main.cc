// stash: a restic-compatible backup tool and Stash server, in one binary.
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "cmd/args.h"
#include "cmd/commands.h"
#include "cmd/common.h"

namespace stash::cli {
namespace {

struct Command {
  int (*run)(const Args&, const Globals&);
  const char* summary;
  std::vector<FlagSpec> flags;
};

std::vector<FlagSpec> GlobalFlags() {
  return {
      {"repo", 'r', true, "repository to back up to or restore from (RESTIC_REPOSITORY)"},
      {"repository-file", 0, true, "file to read the repository location from"},
      {"password-file", 'p', true, "file to read the repository password from"},
      {"password-command", 0, true, "shell command to obtain the repository password from"},
      {"json", 0, false, "set output mode to JSON for commands that support it"},
      {"quiet", 'q', false, "do not output comprehensive progress report"},
      {"verbose", 'v', false, "be verbose"},
      {"no-lock", 0, false, "do not lock the repository (accepted; locks come later)"},
      {"no-cache", 0, false, "do not use a local cache (accepted; there is none)"},
      {"cache-dir", 0, true, "accepted for compatibility; there is no local cache"},
      {"cleanup-cache", 0, false, "accepted for compatibility"},
      {"help", 'h', false, "help for stash"},
  };
}

std::map<std::string, Command> Commands() {
  auto with_filter = [](std::vector<FlagSpec> flags) {
    for (auto& f : SnapshotFilterFlags()) flags.push_back(f);
    return flags;
  };
  return {
      {"init", {RunInit, "Initialize a new repository",
                {{"repository-version", 0, true, "repository format version: 1, 2, stable, latest"}}}},
      {"backup", {RunBackup, "Create a new backup of files and/or directories",
                  {{"host", 'H', true, "hostname to record in the snapshot"},
                   {"tag", 0, true, "add tags for the new snapshot (a,b or repeated)"},
                   {"exclude", 'e', true, "exclude a pattern (can be repeated)"},
                   {"time", 0, true, "time of the snapshot (RFC 3339) instead of now"},
                   {"with-atime", 0, false, "store the atime of files and folders"}}}},
      {"snapshots", {RunSnapshots, "List all snapshots",
                     with_filter({{"latest", 0, true, "only show the last N snapshots per host and paths"},
                                  {"compact", 'c', false, "accepted for compatibility"}})}},
      {"ls", {RunLs, "List files in a snapshot",
              with_filter({{"long", 'l', false, "use a long listing format"}})}},
      {"cat", {RunCat, "Print internal objects to stdout", {}}},
      {"restore", {RunRestore, "Extract the data from a snapshot",
                   with_filter({{"target", 't', true, "directory to extract data to"},
                                {"include", 'i', true, "include a pattern (can be repeated)"},
                                {"exclude", 'e', true, "exclude a pattern (can be repeated)"}})}},
      {"version", {nullptr, "Print version information", {}}},
      {"help", {nullptr, "Help about any command", {}}},
  };
}

void Usage(const std::map<std::string, Command>& commands) {
  std::cout << "stash is a restic-compatible backup program and Stash server.\n\n"
               "Usage:\n  stash [command] [flags]\n\nAvailable Commands:\n";
  for (const auto& [name, c] : commands) std::printf("  %-12s %s\n", name.c_str(), c.summary);
  std::cout << "\nGlobal Flags:\n";
  for (const auto& f : GlobalFlags()) {
    std::printf("  %s--%-18s %s\n", f.short_name ? (std::string("-") + f.short_name + ", ").c_str() : "    ",
                (f.name + (f.takes_value ? " x" : "")).c_str(), f.help.c_str());
  }
}

}  // namespace

int Main(const std::vector<std::string>& argv) {
  auto commands = Commands();
  std::map<std::string, std::vector<FlagSpec>> specs;
  for (const auto& [name, c] : commands) specs[name] = c.flags;
  auto args = ParseArgs(argv, GlobalFlags(), specs);
  if (!args.ok()) {
    return Fatal(args.error().message() + " (run 'stash help' for usage)");
  }
  const std::string& name = args->command();
  if (name.empty() || name == "help" || args->Has("help")) {
    Usage(commands);
    return name.empty() && !args->Has("help") ? kExitError : kExitOk;
  }
  if (name == "version") {
    std::cout << "stash 0.1.0 (restic repository format 1 and 2)\n";
    return kExitOk;
  }
  auto globals = ReadGlobals(*args);
  if (!globals.ok()) return Fatal(globals.error());
  return commands.at(name).run(*args, *globals);
}

}  // namespace stash::cli

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return stash::cli::Main(args);
}
