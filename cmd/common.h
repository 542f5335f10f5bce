// What every command shares: global options, opening the repository,
// printing errors the way restic users expect.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "cmd/args.h"
#include "engine/snapshot_select.h"
#include "storage/lock.h"
#include "storage/repository.h"

namespace stash::cli {

// Exit codes, as restic uses them.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitPartial = 3;  // backup/restore finished, some files failed

struct Globals {
  std::string repo;
  bool json = false;
  bool quiet = false;
};

Result<Globals> ReadGlobals(const Args& args);

// The flags and variables that name a repository and its password: the
// repository a command works on (--repo, RESTIC_REPOSITORY, ...) or the one
// `copy` reads from (--from-repo, RESTIC_FROM_REPOSITORY, ...).
struct RepositorySource {
  const char* repo;              // flag of the location
  const char* repository_file;   // flag of a file holding the location
  const char* password_file;
  const char* password_command;
  const char* key_hint;          // flag of the key to try first
  const char* env_prefix;        // "RESTIC_" or "RESTIC_FROM_": the variables
                                 // PREFIX{REPOSITORY,REPOSITORY_FILE,PASSWORD,
                                 // PASSWORD_FILE,PASSWORD_COMMAND,KEY_HINT}
};
inline constexpr RepositorySource kTargetRepository{"repo", "repository-file", "password-file",
                                                   "password-command", "key-hint", "RESTIC_"};
inline constexpr RepositorySource kSourceRepository{"from-repo", "from-repository-file", "from-password-file",
                                                   "from-password-command", "from-key-hint", "RESTIC_FROM_"};

// The location from the flag, its variable, or the first line of the
// repository file; empty when none is given.
Result<std::string> RepositoryLocation(const Args& args, const RepositorySource& flags);

// The password from the password command or the password file (without
// its line ending) or the PASSWORD variable, in that order; nullopt when
// none of them is given.
Result<std::optional<std::string>> GivenPassword(const Args& args, const RepositorySource& flags);

// The id (or a prefix) of the key to try first, from the flag or its
// variable; empty when neither is given.
std::string KeyHint(const Args& args, const RepositorySource& flags);

// The variable's value, or "" when it is not set.
std::string Env(const std::string& name);

// `s` without the line endings ("\n", "\r\n") at its end.
std::string TrimNewline(std::string s);

// The password from RESTIC_PASSWORD, --password-file / RESTIC_PASSWORD_FILE,
// --password-command / RESTIC_PASSWORD_COMMAND, or standard input.
Result<std::string> ReadPassword(const Args& args, bool confirm_new);

// A backend for a repository location ("/path", "local:/path", "rest:URL",
// "s3:..."); remote ones use the --cacert file ReadGlobals saw.
Result<std::unique_ptr<Backend>> BackendFor(const std::string& location);

// Opens the repository named by the global flags. With `dry_run` every
// write and remove is dropped (backup --dry-run).
Result<std::unique_ptr<Repository>> OpenRepository(const Args& args, const Globals& globals,
                                                   bool dry_run = false);

// Locks the repository as restic does before a command touches it; nullptr
// (and no lock) with --no-lock. A conflict reads like restic's, on one line:
// "unable to create lock in backend: repository is already locked by PID
// ...; the `unlock` command can be used to remove stale locks".
Result<std::unique_ptr<RepositoryLock>> LockRepository(Repository& repo, const Args& args,
                                                       LockMode mode);

// --host, --tag and --path as restic reads them (each --tag a TagList).
SnapshotFilter FilterFromArgs(const Args& args);

// This machine's host name, as restic records it by default.
std::string HostName();

// Go's os.FileMode.String(), as `ls` prints permissions: "drwxr-xr-x".
std::string ModeString(uint32_t go_mode);

// Prints "Fatal: <message>" to stderr and returns kExitError.
// Blocks SIGINT and SIGTERM in every thread started after it, and sets
// `stop` from a thread of its own when one arrives, logging "Received SIG...,
// <what>". The long-running pod commands finish their current run first.
void StopOnSignals(std::atomic<bool>& stop, const std::string& what);

int Fatal(const std::string& message);
int Fatal(const Error& error);

// Flag sets used by several commands.
std::vector<FlagSpec> SnapshotFilterFlags();
// `flags` plus --host, --tag and --path.
std::vector<FlagSpec> WithFilterFlags(std::vector<FlagSpec> flags);

}  // namespace stash::cli
