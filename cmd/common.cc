#include "cmd/common.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "base/log.h"
#include "storage/backends/backend_factory.h"
#include "storage/backends/dry_run_backend.h"

namespace stash::cli {
namespace {

// The --cacert file: BackendFor takes only a location, and the flag is
// process-wide, so ReadGlobals records it here.
std::string& CaCertFile() {
  static std::string file;
  return file;
}

Result<std::string> PasswordFromCommand(const std::string& command) {
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return IOError("password command \"" + command + "\" could not be started");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = ::pclose(p);
  if (rc != 0) return Invalid("password command \"" + command + "\" failed");
  return TrimNewline(out);
}

std::string PromptLine(const char* prompt) {
  if (::isatty(STDIN_FILENO)) std::cerr << prompt << std::flush;
  std::string line;
  std::getline(std::cin, line);
  return TrimNewline(line);
}

}  // namespace

std::string Env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v ? v : "";
}

std::string TrimNewline(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

Result<std::string> RepositoryLocation(const Args& args, const RepositorySource& flags) {
  const std::string prefix = flags.env_prefix;
  std::string location = args.Get(flags.repo, Env(prefix + "REPOSITORY"));
  std::string file = args.Get(flags.repository_file, Env(prefix + "REPOSITORY_FILE"));
  if (location.empty() && !file.empty()) {
    std::ifstream in(file);
    if (!in) return Invalid("cannot read repository file " + file);
    std::getline(in, location);
    location = TrimNewline(location);
  }
  return location;
}

Result<std::optional<std::string>> GivenPassword(const Args& args, const RepositorySource& flags) {
  const std::string prefix = flags.env_prefix;
  std::string command = args.Get(flags.password_command, Env(prefix + "PASSWORD_COMMAND"));
  std::string file = args.Get(flags.password_file, Env(prefix + "PASSWORD_FILE"));
  if (!command.empty()) {
    STASH_ASSIGN_OR_RETURN(std::string password, PasswordFromCommand(command));
    return std::optional<std::string>(std::move(password));
  }
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return Invalid("cannot read password file " + file);
    std::stringstream ss;
    ss << in.rdbuf();
    return std::optional<std::string>(TrimNewline(ss.str()));
  }
  // Set but empty is given (and refused by the caller as empty), as in restic.
  if (const char* env = std::getenv((prefix + "PASSWORD").c_str())) return std::optional<std::string>(env);
  return std::optional<std::string>();
}

std::string KeyHint(const Args& args, const RepositorySource& flags) {
  return args.Get(flags.key_hint, Env(std::string(flags.env_prefix) + "KEY_HINT"));
}

Result<Globals> ReadGlobals(const Args& args) {
  Globals g;
  STASH_ASSIGN_OR_RETURN(g.repo, RepositoryLocation(args, kTargetRepository));
  g.json = args.Has("json");
  g.quiet = args.Has("quiet");
  CaCertFile() = args.Get("cacert");
  return g;
}

Result<std::string> ReadPassword(const Args& args, bool confirm_new) {
  STASH_ASSIGN_OR_RETURN(auto given, GivenPassword(args, kTargetRepository));
  std::string password;
  if (given) {
    password = std::move(*given);
  } else {
    password = PromptLine(confirm_new ? "enter password for new repository: "
                                      : "enter password for repository: ");
    if (confirm_new && ::isatty(STDIN_FILENO) &&
        PromptLine("enter password again: ") != password) {
      return Invalid("passwords do not match");
    }
  }
  if (password.empty()) return Invalid("an empty password is not a password");
  return password;
}

Result<std::unique_ptr<Backend>> BackendFor(const std::string& location) {
  BackendOptions options = BackendOptionsFromEnvironment();
  options.http.ca_file = CaCertFile();
  options.http.on_retry = [](const std::string& message) { std::cerr << message << "\n"; };
  return OpenBackend(location, options);
}

Result<std::unique_ptr<Repository>> OpenRepository(const Args& args, const Globals& g, bool dry_run) {
  STASH_ASSIGN_OR_RETURN(auto backend, BackendFor(g.repo));
  if (dry_run) backend = std::make_unique<DryRunBackend>(std::move(backend));
  STASH_ASSIGN_OR_RETURN(CompressionMode compression,
                         ParseCompressionMode(args.Get("compression", Env("RESTIC_COMPRESSION"))));
  STASH_ASSIGN_OR_RETURN(std::string password, ReadPassword(args, false));
  STASH_ASSIGN_OR_RETURN(auto repo,
                         Repository::Open(std::move(backend), password, KeyHint(args, kTargetRepository)));
  repo->set_compression(compression);
  return repo;
}

Result<std::unique_ptr<RepositoryLock>> LockRepository(Repository& repo, const Args& args,
                                                       LockMode mode) {
  if (args.Has("no-lock")) return std::unique_ptr<RepositoryLock>();
  auto lock = RepositoryLock::Acquire(repo, mode);
  if (lock.ok()) return lock;
  Error e = lock.error().Wrap("unable to create lock in backend");
  if (e.kind() != ErrorKind::kConflict) return e;
  return Conflict(e.message() + "; the `unlock` command can be used to remove stale locks");
}

std::string HostName() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

SnapshotFilter FilterFromArgs(const Args& args) {
  return MakeSnapshotFilter(args.GetAll("host"), args.GetAll("tag"), args.GetAll("path"));
}

std::string ModeString(uint32_t m) {
  static const char kTypes[] = "dalTLDpSugct?";
  std::string out;
  for (int i = 0; i < 13; ++i) {
    if (m & (1u << (31 - i))) out += kTypes[i];
  }
  if (out.empty()) out = "-";
  static const char kRwx[] = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) out += (m & (1u << (8 - i))) ? kRwx[i] : '-';
  return out;
}

int Fatal(const std::string& message) {
  std::cerr << "Fatal: " << message << "\n";
  return kExitError;
}

int Fatal(const Error& error) { return Fatal(error.message()); }

std::vector<FlagSpec> SnapshotFilterFlags() {
  return {{"host", 'H', true, "only consider snapshots for this host"},
          {"tag", 0, true, "only consider snapshots with these tags (a,b = both)"},
          {"path", 0, true, "only consider snapshots with this path"}};
}

std::vector<FlagSpec> WithFilterFlags(std::vector<FlagSpec> flags) {
  for (auto& f : SnapshotFilterFlags()) flags.push_back(f);
  return flags;
}

void StopOnSignals(std::atomic<bool>& stop, const std::string& what) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread([signals, &stop, what] {
    int sig = 0;
    sigwait(&signals, &sig);
    LogLine(std::string("Received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ", " + what);
    stop = true;
  }).detach();
}

}  // namespace stash::cli
