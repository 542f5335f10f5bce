#include "operator/recovery_precheck.h"

#include "storage/backends/backend_factory.h"

namespace stash::op {

SnapshotLookup LookUpSnapshot(const StashBackend& backend, const std::map<std::string, std::string>& secret,
                              const std::string& short_id) {
  auto location = RepositoryLocation(backend, secret);
  if (!location.ok()) return {SnapshotPresence::kUnknown, location.error().message()};
  auto opened = OpenBackend(*location, SettingsFromSecret(backend, secret));
  if (!opened.ok()) return {SnapshotPresence::kUnknown, opened.error().message()};
  auto config = (*opened)->Stat(FileType::kConfig, "");
  if (!config.ok()) return {SnapshotPresence::kUnknown, *location + ": " + config.error().message()};
  auto snapshots = (*opened)->List(FileType::kSnapshot);
  if (!snapshots.ok()) return {SnapshotPresence::kUnknown, snapshots.error().message()};
  for (const auto& file : *snapshots) {
    if (file.name.starts_with(short_id)) return {SnapshotPresence::kFound, *location};
  }
  return {SnapshotPresence::kMissing, *location};
}

}  // namespace stash::op
