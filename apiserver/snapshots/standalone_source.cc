#include "apiserver/snapshots/standalone_source.h"

#include <algorithm>
#include <filesystem>

#include "apiserver/machinery/server_types.h"

namespace stash::apiserver {

namespace fs = std::filesystem;

Result<std::unique_ptr<StandaloneSource>> StandaloneSource::Load(const std::string& dir) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    auto ext = entry.path().extension().string();
    if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) {
      files.push_back(entry.path());
    }
  }
  if (ec) return NotFound("cannot read manifests folder " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());  // a stable order for "the last one wins"
  Manifests all;
  for (const auto& f : files) {
    STASH_ASSIGN_OR_RETURN(std::string text, ReadTextFile(f.string()));
    STASH_ASSIGN_OR_RETURN(Manifests m, ParseManifests(text, f.string()));
    all.Merge(std::move(m));
  }
  return std::make_unique<StandaloneSource>(all);
}

StandaloneSource::StandaloneSource(const Manifests& manifests)
    : repositories_(ResolveRepositories(manifests)),
      namespaces_(manifests.namespaces),
      terminating_(manifests.terminating_namespaces),
      skipped_(manifests.skipped) {}

bool StandaloneSource::NamespaceTerminating(const std::string& ns) {
  return std::find(terminating_.begin(), terminating_.end(), ns) != terminating_.end();
}

std::optional<std::string> StandaloneSource::NamespacePhase(const std::string& ns) const {
  if (std::find(terminating_.begin(), terminating_.end(), ns) != terminating_.end()) return "Terminating";
  bool known = std::find(namespaces_.begin(), namespaces_.end(), ns) != namespaces_.end() ||
               std::any_of(repositories_.begin(), repositories_.end(),
                           [&](const RepositorySpec& r) { return r.ns == ns; });
  if (known) return "Active";
  return std::nullopt;
}

}  // namespace stash::apiserver
