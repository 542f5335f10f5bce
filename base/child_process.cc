#include "base/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace stash {

Result<ChildProcess> SpawnChild(const std::vector<std::string>& argv, ChildPipe pipe,
                                const std::vector<std::pair<std::string, std::string>>& env) {
  if (argv.empty() || argv[0].empty()) return Invalid("no command given");
  ChildProcess child;
  child.name = argv[0];
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return IOError(child.name + ": pipe: " + std::strerror(errno));
  int theirs = pipe == ChildPipe::kStdout ? fds[1] : fds[0];
  int ours = pipe == ChildPipe::kStdout ? fds[0] : fds[1];
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, theirs, pipe == ChildPipe::kStdout ? STDOUT_FILENO : STDIN_FILENO);
  std::vector<std::string> environment;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    bool replaced = false;
    for (const auto& [key, value] : env) replaced = replaced || entry.rfind(key + "=", 0) == 0;
    if (!replaced) environment.push_back(entry);
  }
  for (const auto& [key, value] : env) environment.push_back(key + "=" + value);
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : environment) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  int rc = posix_spawnp(&child.pid, argv[0].c_str(), &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(theirs);
  if (rc != 0) {
    ::close(ours);
    return NotFound("command " + child.name + " cannot be started: " + std::strerror(rc));
  }
  child.fd = ours;
  // A child that stops reading must not kill us with SIGPIPE.
  if (pipe == ChildPipe::kStdin) ::signal(SIGPIPE, SIG_IGN);
  return child;
}

Status WaitChild(ChildProcess& child) {
  if (child.fd >= 0) ::close(child.fd), child.fd = -1;
  if (child.pid <= 0) return Status::Ok();
  int status = 0;
  while (::waitpid(child.pid, &status, 0) < 0) {
    if (errno != EINTR) return IOError("command " + child.name + ": waitpid: " + std::strerror(errno));
  }
  child.pid = -1;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  if (WIFEXITED(status)) {
    return IOError("command " + child.name + " exited with status " + std::to_string(WEXITSTATUS(status)));
  }
  return IOError("command " + child.name + " was killed by signal " + std::to_string(WTERMSIG(status)));
}

}  // namespace stash
