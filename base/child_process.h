// A child process that we feed through its standard input or read from its
// standard output (a dump tool piped into a backup, a restore piped into a
// database client). Its standard error stays ours, so its messages reach
// the log.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace stash {

enum class ChildPipe { kStdout, kStdin };

struct ChildProcess {
  pid_t pid = -1;
  int fd = -1;       // our end of the pipe (-1 once closed)
  std::string name;  // argv[0], for messages
};

// Starts argv[0] (looked up in PATH) with the environment plus `env`.
// kNotFound naming the command when it cannot be started.
Result<ChildProcess> SpawnChild(const std::vector<std::string>& argv, ChildPipe pipe,
                                const std::vector<std::pair<std::string, std::string>>& env = {});

// Closes our end of the pipe and waits for the child. kIO naming the
// command and its exit status or signal when it did not exit 0.
Status WaitChild(ChildProcess& child);

}  // namespace stash
