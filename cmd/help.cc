#include "cmd/help.h"

#include <algorithm>
#include <map>

namespace stash::cli {
namespace {

// Flag names mean the same in every command, so their value names live here.
const std::map<std::string, std::string>& UsualValueNames() {
  static const std::map<std::string, std::string> names = {
      {"keep-last", "n"}, {"keep-hourly", "n"}, {"keep-daily", "n"}, {"keep-weekly", "n"},
      {"keep-monthly", "n"}, {"keep-yearly", "n"}, {"latest", "n"},
      {"keep-within", "duration"}, {"keep-within-hourly", "duration"},
      {"keep-within-daily", "duration"}, {"keep-within-weekly", "duration"},
      {"keep-within-monthly", "duration"}, {"keep-within-yearly", "duration"},
      {"keep-tag", "taglist"}, {"tag", "taglist"}, {"path", "path"}, {"group-by", "group"},
      {"add", "tags"}, {"remove", "tags"}, {"set", "tags"},
      {"include", "pattern"}, {"exclude", "pattern"}, {"iinclude", "pattern"}, {"iexclude", "pattern"},
      {"repo", "repository"}, {"from-repo", "repository"},
      {"repository-file", "file"}, {"password-file", "file"}, {"cacert", "file"},
      {"from-repository-file", "file"}, {"from-password-file", "file"},
      {"exclude-file", "file"}, {"iexclude-file", "file"}, {"files-from", "file"},
      {"files-from-raw", "file"}, {"files-from-verbatim", "file"},
      {"password-command", "command"}, {"from-password-command", "command"}, {"key-hint", "key"},
      {"cache-dir", "directory"}, {"compression", "mode"}, {"archive", "format"},
      {"snapshot", "id"}, {"parent", "snapshot"}, {"time", "time"},
      {"max-unused", "limit"}, {"max-repack-size", "size"}, {"exclude-larger-than", "size"},
      {"read-data-subset", "subset"}, {"stdin-filename", "filename"},
      {"exclude-if-present", "filename[:header]"}, {"mode", "mode"},
  };
  return names;
}

std::string FlagColumn(const FlagSpec& f) {
  std::string line = f.short_name ? std::string("  -") + f.short_name + ", --" + f.name : "      --" + f.name;
  if (f.takes_value) line += " " + ValueName(f);
  return line;
}

}  // namespace

std::string ValueName(const FlagSpec& flag) {
  if (!flag.value_name.empty()) return flag.value_name;
  auto it = UsualValueNames().find(flag.name);
  return it == UsualValueNames().end() ? "string" : it->second;
}

std::string FlagTable(const std::vector<FlagSpec>& flags) {
  size_t width = 0;
  for (const auto& f : flags) width = std::max(width, FlagColumn(f).size());
  std::string out;
  for (const auto& f : flags) {
    std::string column = FlagColumn(f);
    out += column + std::string(width - column.size() + 3, ' ') + f.help + "\n";
  }
  return out;
}

std::string CommandHelp(const Command& c, const std::vector<FlagSpec>& general,
                        const std::vector<FlagSpec>& repository) {
  std::string out = c.summary + "\n\nUsage:\n  stash " + c.name + " " + c.usage + "\n";
  std::vector<FlagSpec> flags = c.flags;
  flags.push_back({"help", 'h', false, "help for " + c.name});
  // pflag lists flags sorted by name.
  std::sort(flags.begin(), flags.end(), [](const FlagSpec& a, const FlagSpec& b) { return a.name < b.name; });
  out += "\nFlags:\n" + FlagTable(flags);
  std::vector<FlagSpec> globals = general;
  if (c.uses_repository) globals.insert(globals.end(), repository.begin(), repository.end());
  std::sort(globals.begin(), globals.end(), [](const FlagSpec& a, const FlagSpec& b) { return a.name < b.name; });
  if (!globals.empty()) out += "\nGlobal Flags:\n" + FlagTable(globals);
  return out;
}

std::string MainHelp(const std::vector<Command>& commands, const std::vector<FlagSpec>& globals) {
  std::string out =
      "stash is a restic-compatible backup program and Stash server.\n\n"
      "Usage:\n  stash [command]\n\nAvailable Commands:\n";
  size_t width = 7;  // "version"
  for (const auto& c : commands) width = std::max(width, c.name.size());
  auto row = [&](const std::string& name, const std::string& summary) {
    out += "  " + name + std::string(width - name.size() + 3, ' ') + summary + "\n";
  };
  for (const auto& c : commands) row(c.name, c.summary);
  row("help", "Help about any command");
  row("version", "Print version information");
  std::vector<FlagSpec> sorted = globals;
  std::sort(sorted.begin(), sorted.end(), [](const FlagSpec& a, const FlagSpec& b) { return a.name < b.name; });
  out += "\nFlags:\n" + FlagTable(sorted);
  out += "\nUse \"stash [command] --help\" for more information about a command.\n";
  return out;
}

}  // namespace stash::cli
