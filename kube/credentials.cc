#include "kube/credentials.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <vector>

#include "base/text_file.h"
#include "crypto/encoding.h"
#include "kube/object.h"

extern char** environ;

namespace stash::kube {
namespace {

constexpr auto kTokenFileReread = std::chrono::seconds(60);
constexpr auto kExecTimeout = std::chrono::seconds(60);
// A token this close to its expiry is fetched anew rather than sent.
constexpr auto kExpirySlack = std::chrono::seconds(10);

// RFC 3339 ("2026-12-03T18:25:00Z", fractions and offsets allowed).
bool ParseRfc3339(const std::string& text, std::chrono::system_clock::time_point* out) {
  std::tm tm{};
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest) return false;
  if (*rest == '.') {
    ++rest;
    while (*rest >= '0' && *rest <= '9') ++rest;
  }
  long offset = 0;
  if (*rest == '+' || *rest == '-') {
    int h = 0, m = 0;
    if (std::sscanf(rest + 1, "%2d:%2d", &h, &m) != 2) return false;
    offset = (h * 3600L + m * 60L) * (*rest == '-' ? -1 : 1);
  } else if (*rest != 'Z' && *rest != 'z') {
    return false;
  }
  // Clamped to what a system_clock time point holds (nanoseconds to 2262):
  // a plugin saying "year 3000" means "does not expire soon".
  constexpr time_t kLatest = 7258118400;  // 2200-01-01
  time_t secs = timegm(&tm) - offset;
  *out = std::chrono::system_clock::from_time_t(std::clamp<time_t>(secs, 0, kLatest));
  return true;
}

std::vector<std::string> PluginEnvironment(const ExecConfig& exec) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  for (const auto& [name, value] : exec.env) env.push_back(name + "=" + value);
  env.push_back("KUBERNETES_EXEC_INFO={\"apiVersion\":\"" + exec.api_version +
                "\",\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false}}");
  return env;
}

// Reads `fd` to its end, or until `deadline`; false on timeout.
bool ReadAll(int fd, std::string* out, std::chrono::steady_clock::time_point deadline) {
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    out->append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

Result<ExecCredential> ParseExecCredential(std::string_view json, const std::string& api_version) {
  auto doc = ParseObject(json, "exec plugin output");
  if (!doc.ok()) return AuthError("exec plugin printed no ExecCredential JSON");
  const Json& d = **doc;
  if (StringOf(d, "kind") != "ExecCredential") return AuthError("exec plugin output is not an ExecCredential");
  if (StringOf(d, "apiVersion") != api_version) {
    return AuthError("exec plugin answered " + StringOf(d, "apiVersion") + ", asked for " + api_version);
  }
  ExecCredential c;
  c.token = StringAt(d, "/status/token");
  c.client_cert_pem = StringAt(d, "/status/clientCertificateData");
  c.client_key_pem = StringAt(d, "/status/clientKeyData");
  if (c.token.empty() && c.client_cert_pem.empty()) {
    return AuthError("exec plugin gave neither a token nor a client certificate");
  }
  if (c.client_cert_pem.empty() != c.client_key_pem.empty()) {
    return AuthError("exec plugin gave a client certificate without its key, or the other way round");
  }
  std::string expiry = StringAt(d, "/status/expirationTimestamp");
  if (!expiry.empty() && !ParseRfc3339(expiry, &c.expires)) {
    return AuthError("exec plugin's expirationTimestamp \"" + expiry + "\" is not RFC 3339");
  }
  return c;
}

Result<ExecCredential> RunExecPlugin(const ExecConfig& exec) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return IOError("exec plugin: pipe: " + std::string(strerror(errno)));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> args{exec.command};
  args.insert(args.end(), exec.args.begin(), exec.args.end());
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = PluginEnvironment(exec);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, exec.command.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    std::string hint = exec.install_hint.empty() ? "" : " (" + exec.install_hint + ")";
    return AuthError("exec plugin " + exec.command + " cannot be started: " + strerror(rc) + hint);
  }
  std::string stdout_text;
  bool finished = ReadAll(out[0], &stdout_text, std::chrono::steady_clock::now() + kExecTimeout);
  ::close(out[0]);
  if (!finished) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!finished) return AuthError("exec plugin " + exec.command + " timed out");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return AuthError("exec plugin " + exec.command + " failed (exit status " +
                     std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
  }
  auto c = ParseExecCredential(stdout_text, exec.api_version);
  if (!c.ok()) return c.error().Wrap(exec.command);
  return c;
}

Result<std::string> Credentials::Token() {
  std::lock_guard<std::mutex> lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (access_.exec) {
    bool expired = expires_.time_since_epoch().count() != 0 &&
                   std::chrono::system_clock::now() + kExpirySlack >= expires_;
    if (!have_ || expired) {
      STASH_ASSIGN_OR_RETURN(ExecCredential c, RunExecPlugin(*access_.exec));
      token_ = c.token;
      expires_ = c.expires;
      have_ = true;
    }
    return token_;
  }
  if (!access_.token_file.empty()) {
    if (!have_ || now - read_at_ >= kTokenFileReread) {
      auto text = ReadTextFile(access_.token_file);
      if (!text.ok()) return AuthError("token file " + access_.token_file + " cannot be read");
      token_ = *text;
      while (!token_.empty() && (token_.back() == '\n' || token_.back() == '\r' || token_.back() == ' ')) {
        token_.pop_back();
      }
      read_at_ = now;
      have_ = true;
    }
    return token_;
  }
  return access_.token;
}

void Credentials::Invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  have_ = false;
}

}  // namespace stash::kube
