// Help text in the layout restic (cobra/pflag) and kubectl users know:
// a Usage line with the command's arguments, flags with the kind of value
// they take, aligned columns, and the global flags in their own section.
#pragma once

#include <string>
#include <vector>

#include "cmd/args.h"
#include "cmd/commands.h"

namespace stash::cli {

// The value a flag takes as help names it: its value_name, else the usual
// name for flags of that name ("n", "duration", "file", ...), else "string".
std::string ValueName(const FlagSpec& flag);

// pflag's table: "  -s, --name value   help" lines, help aligned three
// spaces after the longest flag column.
std::string FlagTable(const std::vector<FlagSpec>& flags);

// `stash CMD --help`: summary, Usage, Flags (with -h, --help) and the
// global flags the command uses (the repository ones only if it opens one).
std::string CommandHelp(const Command& command, const std::vector<FlagSpec>& general,
                        const std::vector<FlagSpec>& repository);

// `stash --help`: the commands and all global flags.
std::string MainHelp(const std::vector<Command>& commands, const std::vector<FlagSpec>& globals);

}  // namespace stash::cli
