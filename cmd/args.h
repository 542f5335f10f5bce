// Command-line parsing in the style of restic (cobra/pflag): global flags
// may stand before or after the command, flags take "--name value",
// "--name=value", "-n value" or "-nvalue", and "--" ends the flags.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/result.h"

namespace stash::cli {

struct FlagSpec {
  std::string name;       // long name without "--"
  char short_name = 0;    // 0 if none
  bool takes_value = false;
  std::string help;
  // What the value is, as help shows it ("--host string", "--keep-last n");
  // empty: the usual name for this flag (see help.h).
  std::string value_name = "";
};

class Args {
 public:
  bool Has(const std::string& name) const { return values_.count(name) != 0; }
  // The last value given for a flag, or `fallback`.
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> GetAll(const std::string& name) const;

  const std::string& command() const { return command_; }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  friend Result<Args> ParseArgs(const std::vector<std::string>& argv,
                                const std::vector<FlagSpec>& global,
                                const std::map<std::string, std::vector<FlagSpec>>& commands);
  std::map<std::string, std::vector<std::string>> values_;
  std::string command_;
  std::vector<std::string> positional_;
};

// argv without the program name. An unknown command or flag is kInvalid.
Result<Args> ParseArgs(const std::vector<std::string>& argv, const std::vector<FlagSpec>& global,
                       const std::map<std::string, std::vector<FlagSpec>>& commands);

}  // namespace stash::cli
