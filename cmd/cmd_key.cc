// stash key: list, add, remove and change the keys (passwords) of a
// repository, with restic 0.14's output, locks and checks.
//
//   key list [--json]     shared lock; the key in use is marked with '*'
//   key add               shared lock; --new-password-file, --user, --host
//   key remove ID         exclusive lock; refuses the key in use
//   key passwd            exclusive lock; adds a key, then removes the old one
//
// The new password comes from --new-password-file or standard input;
// restic 0.14 reads no environment variable for it, so neither do we.
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cmd/commands.h"
#include "base/go_json.h"
#include "engine/node_metadata.h"
#include "storage/key_file.h"

namespace stash::cli {
namespace {

// New keys cost what `stash init`'s do (see ScryptParams).
constexpr ScryptParams kNewKeyParams{};

struct KeyRow {
  bool current = false;
  std::string id;  // short
  std::string user, host, created;
};

// Every key file that can be read, in listing order; others are reported
// and skipped as restic does.
Result<std::vector<KeyRow>> LoadKeyRows(Repository& repo) {
  STASH_ASSIGN_OR_RETURN(auto files, repo.backend().List(FileType::kKey));
  std::vector<KeyRow> rows;
  for (const auto& f : files) {
    auto bytes = repo.backend().Read(FileType::kKey, f.name);
    auto key = bytes.ok() ? DecodeKeyFile(*bytes) : Result<KeyFile>(bytes.error());
    if (!key.ok()) {
      std::cerr << "LoadKey() failed: keys/" << f.name << ": " << key.error().message() << "\n";
      continue;
    }
    Timestamp local = Timestamp::Local(key->created.seconds, key->created.nanos);
    rows.push_back({f.name == repo.key_id().Hex(), f.name.substr(0, 8), key->username,
                    key->hostname, FormatTableTime(local)});
  }
  return rows;
}

std::string KeyRowsJson(const std::vector<KeyRow>& rows) {
  if (rows.empty()) return "null";  // Go encodes a nil slice so
  std::string out = "[";
  for (const auto& r : rows) {
    if (out.size() > 1) out += ",";
    out += std::string("{\"current\":") + (r.current ? "true" : "false") + ",\"id\":";
    AppendGoJsonString(out, r.id);
    out += ",\"userName\":";
    AppendGoJsonString(out, r.user);
    out += ",\"hostName\":";
    AppendGoJsonString(out, r.host);
    out += ",\"created\":";
    AppendGoJsonString(out, r.created);
    out += "}";
  }
  return out + "]";
}

// restic's table: columns padded to their widest cell, two spaces apart,
// trailing blanks trimmed, a rule of dashes above and below the rows.
void PrintKeyTable(const std::vector<KeyRow>& rows) {
  std::vector<std::vector<std::string>> cells = {{" ID", "User", "Host", "Created"}};
  for (const auto& r : rows) {
    cells.push_back({(r.current ? "*" : " ") + r.id, r.user, r.host, r.created});
  }
  size_t widths[4] = {};
  for (const auto& line : cells) {
    for (int i = 0; i < 4; ++i) widths[i] = std::max(widths[i], line[i].size());
  }
  std::string rule(widths[0] + widths[1] + widths[2] + widths[3] + 3 * 2, '-');
  auto print = [&](const std::vector<std::string>& line) {
    std::string s;
    for (int i = 0; i < 4; ++i) {
      s += (i ? "  " : "") + line[i] + std::string(widths[i] - line[i].size(), ' ');
    }
    s.erase(s.find_last_not_of(' ') + 1);
    std::printf("%s\n", s.c_str());
  };
  print(cells[0]);
  std::printf("%s\n", rule.c_str());
  for (size_t i = 1; i < cells.size(); ++i) print(cells[i]);
  std::printf("%s\n", rule.c_str());
}

std::string TrimSpace(std::string s) {
  const char* ws = " \t\r\n\v\f";
  s.erase(s.find_last_not_of(ws) + 1);
  s.erase(0, s.find_first_not_of(ws));
  return s;
}

std::string PromptLine(const char* prompt) {
  if (::isatty(STDIN_FILENO)) std::cerr << prompt << std::flush;
  std::string line;
  std::getline(std::cin, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// --new-password-file (trimmed of white space, as restic does), else one
// line of standard input, asked twice on a terminal.
Result<std::string> NewPassword(const Args& args) {
  std::string password;
  if (args.Has("new-password-file")) {
    std::string file = args.Get("new-password-file");
    std::ifstream in(file, std::ios::binary);
    if (!in) return Invalid(file + " does not exist");
    std::stringstream ss;
    ss << in.rdbuf();
    password = TrimSpace(ss.str());
  } else {
    password = PromptLine("enter new password: ");
    if (::isatty(STDIN_FILENO) && PromptLine("enter password again: ") != password) {
      return Invalid("passwords do not match");
    }
  }
  if (password.empty()) return Invalid("an empty password is not a password");
  return password;
}

// Writes a key file for the repository's master key, then opens it with
// the password: a key that does not work would lock its owner out, so it
// is removed again and the command fails.
Result<KeyFile> AddKey(Repository& repo, const std::string& password, std::string user,
                       std::string host) {
  if (user.empty()) user = UserName(::getuid());
  if (host.empty()) host = HostName();
  auto key = NewKeyFile(repo.master_key(), password, kNewKeyParams, user, host);
  if (!key.ok()) return key.error().Wrap("creating new key failed");
  std::string json = EncodeKeyFile(*key);
  std::string name = Sha256(AsBytes(json)).Hex();
  STASH_RETURN_IF_ERROR(repo.backend().Write(FileType::kKey, name, AsBytes(json)));
  auto stored = repo.backend().Read(FileType::kKey, name);
  auto decoded = stored.ok() ? DecodeKeyFile(*stored) : Result<KeyFile>(stored.error());
  auto master = decoded.ok() ? OpenKeyFile(*decoded, password) : Result<CryptoKey>(decoded.error());
  if (!master.ok() || master->encrypt != repo.master_key().encrypt) {
    (void)repo.backend().Remove(FileType::kKey, name);
    return AuthError("failed to access repository with new key keys/" + name);
  }
  return std::move(*key);
}

// Go's time.Time.String() in the local zone, as restic prints a key's
// creation: "2022-09-01 12:00:00.123456789 +0200 CEST".
std::string GoTimeString(const Timestamp& t) {
  time_t secs = static_cast<time_t>(t.seconds);
  struct tm tm;
  if (!localtime_r(&secs, &tm)) return FormatRfc3339Nano(t);
  char date[64], zone[64];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
  std::strftime(zone, sizeof zone, "%z %Z", &tm);
  std::string frac;
  if (t.nanos != 0) {
    char digits[16];
    std::snprintf(digits, sizeof digits, ".%09u", t.nanos);
    frac = digits;
    frac.erase(frac.find_last_not_of('0') + 1);
  }
  return std::string(date) + frac + " " + zone;
}

void PrintSavedKey(const KeyFile& key, const Globals& g) {
  if (g.quiet) return;
  std::printf("saved new key as <Key of %s@%s, created on %s>\n", key.username.c_str(),
              key.hostname.c_str(), GoTimeString(key.created).c_str());
}

int KeyList(Repository& repo, const Globals& g) {
  auto rows = LoadKeyRows(repo);
  if (!rows.ok()) return Fatal(rows.error());
  if (g.json) {
    std::printf("%s\n", KeyRowsJson(*rows).c_str());
  } else {
    PrintKeyTable(*rows);
  }
  return kExitOk;
}

int KeyAdd(Repository& repo, const Args& args, const Globals& g) {
  auto password = NewPassword(args);
  if (!password.ok()) return Fatal(password.error());
  auto key = AddKey(repo, *password, args.Get("user"), args.Get("host"));
  if (!key.ok()) return Fatal(key.error());
  PrintSavedKey(*key, g);
  return kExitOk;
}

int KeyRemove(Repository& repo, const std::string& prefix, const Globals& g) {
  auto id = repo.ResolvePrefix(FileType::kKey, prefix);
  if (!id.ok()) return Fatal(id.error());
  if (*id == repo.key_id()) {
    return Fatal("refusing to remove key " + id->Short() + " currently used to access repository");
  }
  Status removed = repo.backend().Remove(FileType::kKey, id->Hex());
  if (!removed.ok()) return Fatal(removed.error());
  if (!g.quiet) std::printf("removed key %s\n", id->Hex().c_str());
  return kExitOk;
}

int KeyPasswd(Repository& repo, const Args& args, const Globals& g) {
  auto password = NewPassword(args);
  if (!password.ok()) return Fatal(password.error());
  auto key = AddKey(repo, *password, "", "");
  if (!key.ok()) return Fatal(key.error());
  Status removed = repo.backend().Remove(FileType::kKey, repo.key_id().Hex());
  if (!removed.ok()) return Fatal(removed.error().Wrap("new key saved, old key not removed"));
  PrintSavedKey(*key, g);
  return kExitOk;
}

// Checks the words before the repository is opened, so a typo costs no
// password prompt.
Status CheckKeyArgs(const std::vector<std::string>& words) {
  if (words.empty()) return Invalid("key needs a subcommand: list, add, remove ID or passwd");
  const std::string& sub = words[0];
  if (sub != "list" && sub != "add" && sub != "remove" && sub != "passwd") {
    return Invalid("unknown key subcommand \"" + sub + "\" (use list, add, remove or passwd)");
  }
  if (sub == "remove" && words.size() != 2) return Invalid("key remove needs exactly one key ID");
  if (sub != "remove" && words.size() != 1) {
    return Invalid("key " + sub + " takes no arguments, got \"" + words[1] + "\"");
  }
  return Status::Ok();
}

int RunKey(const Args& args, const Globals& g) {
  const auto& words = args.positional();
  if (Status s = CheckKeyArgs(words); !s.ok()) return Fatal(s.error());
  auto repo = OpenRepository(args, g);
  if (!repo.ok()) return Fatal(repo.error());
  const std::string& sub = words[0];
  bool exclusive = sub == "remove" || sub == "passwd";
  auto lock = LockRepository(**repo, args, exclusive ? LockMode::kExclusive : LockMode::kShared);
  if (!lock.ok()) return Fatal(lock.error());
  if (sub == "list") return KeyList(**repo, g);
  if (sub == "add") return KeyAdd(**repo, args, g);
  if (sub == "remove") return KeyRemove(**repo, words[1], g);
  return KeyPasswd(**repo, args, g);
}

}  // namespace

Command KeyCommand() {
  return {"key", "Manage keys (passwords)",
          {{"new-password-file", 0, true, "file from which to read the new password"},
           {"user", 0, true, "the username for new keys"},
           {"host", 0, true, "the hostname for new keys"}},
          RunKey, "[flags] [list|add|remove|passwd] [ID]"};
}

}  // namespace stash::cli
