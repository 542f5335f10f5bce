// stash init: create a repository.
#include <unistd.h>

#include <iostream>

#include "cmd/commands.h"
#include "engine/node_metadata.h"
#include "engine/polynomial.h"

namespace stash::cli {
namespace {

Result<int> ParseVersion(const std::string& text) {
  if (text.empty() || text == "stable" || text == "latest" || text == "2") return 2;
  if (text == "1") return 1;
  return Invalid("invalid repository version \"" + text + "\" (use 1, 2, stable or latest)");
}

int RunInit(const Args& args, const Globals& g) {
  auto version = ParseVersion(args.Get("repository-version"));
  if (!version.ok()) return Fatal(version.error());
  auto backend = BackendFor(g.repo);
  if (!backend.ok()) return Fatal(backend.error());
  auto password = ReadPassword(args, true);
  if (!password.ok()) return Fatal(password.error());
  InitOptions options;
  options.version = *version;
  options.chunker_polynomial = RandomPolynomial();
  options.username = UserName(::getuid());
  options.hostname = HostName();
  std::string where = (*backend)->Location();
  auto repo = Repository::Init(std::move(*backend), *password, options);
  if (!repo.ok()) return Fatal("create repository at " + where + " failed: " + repo.error().message());
  if (g.json) {
    std::cout << "{\"message_type\":\"initialized\",\"id\":\"" << (*repo)->config().id
              << "\",\"repository\":\"" << where << "\"}\n";
  } else if (!g.quiet) {
    std::cout << "created restic repository " << (*repo)->config().id.substr(0, 10) << " at "
              << where << "\n\nPlease note that knowledge of your password is required to access\n"
              << "the repository. Losing your password means that your data is\n"
              << "irrecoverably lost.\n";
  }
  return kExitOk;
}

}  // namespace

Command InitCommand() {
  return {"init", "Initialize a new repository",
          {{"repository-version", 0, true, "repository format version: 1, 2, stable, latest"}},
          RunInit};
}

}  // namespace stash::cli
