#include "cmd/args.h"

namespace stash::cli {
namespace {

const FlagSpec* FindLong(const std::vector<const std::vector<FlagSpec>*>& sets,
                         const std::string& name) {
  for (const auto* set : sets) {
    for (const auto& f : *set) {
      if (f.name == name) return &f;
    }
  }
  return nullptr;
}

const FlagSpec* FindShort(const std::vector<const std::vector<FlagSpec>*>& sets, char c) {
  for (const auto* set : sets) {
    for (const auto& f : *set) {
      if (f.short_name == c) return &f;
    }
  }
  return nullptr;
}

}  // namespace

std::string Args::Get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() || it->second.empty() ? fallback : it->second.back();
}

std::vector<std::string> Args::GetAll(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

Result<Args> ParseArgs(const std::vector<std::string>& argv, const std::vector<FlagSpec>& global,
                       const std::map<std::string, std::vector<FlagSpec>>& commands) {
  Args args;
  std::vector<const std::vector<FlagSpec>*> sets = {&global};
  bool flags_done = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    auto positional = [&](const std::string& value) -> Status {
      if (args.command_.empty()) {
        auto it = commands.find(value);
        if (it == commands.end()) return Invalid("unknown command \"" + value + "\"");
        args.command_ = value;
        sets.push_back(&it->second);
      } else {
        args.positional_.push_back(value);
      }
      return Status::Ok();
    };
    if (flags_done || a.size() < 2 || a[0] != '-') {
      STASH_RETURN_IF_ERROR(positional(a));
      continue;
    }
    if (a == "--") {
      flags_done = true;
      continue;
    }
    const FlagSpec* spec = nullptr;
    std::string value;
    bool has_value = false;
    if (a[1] == '-') {
      std::string name = a.substr(2);
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_value = true;
      }
      spec = FindLong(sets, name);
      if (!spec) return Invalid("unknown flag: --" + name);
    } else {
      spec = FindShort(sets, a[1]);
      if (!spec) return Invalid(std::string("unknown shorthand flag: '") + a[1] + "' in " + a);
      if (a.size() > 2) {
        value = a.substr(a[2] == '=' ? 3 : 2);
        has_value = true;
        if (!spec->takes_value) return Invalid("flag -" + std::string(1, a[1]) + " takes no value");
      }
    }
    if (spec->takes_value && !has_value) {
      if (i + 1 >= argv.size()) return Invalid("flag needs an argument: --" + spec->name);
      value = argv[++i];
    } else if (!spec->takes_value && has_value && value != "true" && value != "false") {
      return Invalid("flag --" + spec->name + " takes no value");
    }
    if (!spec->takes_value && value == "false") {
      args.values_.erase(spec->name);
      continue;
    }
    args.values_[spec->name].push_back(value);
  }
  return args;
}

}  // namespace stash::cli
