// What `stash backup` reads from its flags before it touches the
// repository, checked and worded as restic 0.14 does it: the targets
// (arguments plus --files-from lists, missing ones skipped with a warning),
// the selection flags, and --time.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/result.h"
#include "cmd/args.h"
#include "engine/backup_selection.h"
#include "base/go_time.h"

namespace stash::cli {

// An error for the command to print. `fatal` ones read "Fatal: ...";
// others (a list file that cannot be read, a bad size) are printed as they
// are, as restic prints errors that do not come from its own checks.
struct InputError {
  std::string message;
  bool fatal = true;
};

template <class T>
using InputResult = std::variant<T, InputError>;

// restic's BackupOptions.Check: conflicting flags. `password_from_stdin`:
// no password variable, file or command is set.
std::optional<InputError> CheckBackupFlags(const Args& args, bool password_from_stdin);

// Arguments and --files-from* lists, with "<path> does not exist, skipping"
// and "pattern \"p\" does not match any files, skipping" on stderr.
InputResult<std::vector<std::string>> CollectTargets(const Args& args);

// --exclude*, --iexclude*, --exclude-if-present, --exclude-caches,
// --exclude-larger-than, -x.
InputResult<SelectionSpec> ReadSelectionSpec(const Args& args);

// --time: restic's "2006-01-02 15:04:05" in local time (RFC 3339 is taken
// too).
InputResult<Timestamp> ParseBackupTime(const std::string& text);

// --tag values: each "a,b" adds a and b (trimmed, empty ones dropped).
std::vector<std::string> SplitTags(const std::vector<std::string>& values);

}  // namespace stash::cli
