#include "agent/retention.h"

#include "agent/storage_access.h"

#include <algorithm>

#include "engine/prune.h"
#include "engine/snapshot_filter.h"
#include "net/url.h"
#include "storage/lock.h"

namespace stash::agent {
namespace {

// The snapshots one file group made: this host, exactly this one path.
Result<std::vector<SnapshotEntry>> GroupSnapshots(Repository& repo, const std::string& host, const std::string& path) {
  STASH_ASSIGN_OR_RETURN(auto all, repo.LoadAllSnapshots());
  // The archiver records a target cleaned ("/data/" as "/data").
  const std::vector<std::string> paths = {std::string(1, '/').append(http::CleanPath(path))};
  std::vector<SnapshotEntry> out;
  for (auto& e : all) {
    if (e.second.hostname == host && e.second.paths == paths) out.push_back(std::move(e));
  }
  // A fixed order for snapshots of equal time, as the forget command uses.
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace

ExpirePolicy ExpirePolicyOf(const RetentionPolicy& p) {
  ExpirePolicy e;
  e.last = p.keep_last, e.hourly = p.keep_hourly, e.daily = p.keep_daily;
  e.weekly = p.keep_weekly, e.monthly = p.keep_monthly, e.yearly = p.keep_yearly;
  for (const auto& tag : p.keep_tags) e.tags.push_back(ParseTagList(tag));
  return e;
}

bool HasKeepRule(const RetentionPolicy& p) { return !ExpirePolicyOf(p).Empty(); }

Result<RetentionResult> ApplyRetention(Repository& repo, const RetentionPolicy& policy, const std::string& host,
                                       const std::string& path, std::chrono::seconds retry_lock) {
  RetentionResult result;
  if (!HasKeepRule(policy)) return result;
  STASH_ASSIGN_OR_RETURN(auto lock, AcquireLockRetrying(repo, LockMode::kExclusive, retry_lock));
  STASH_ASSIGN_OR_RETURN(auto snapshots, GroupSnapshots(repo, host, path));
  PolicyResult chosen = ApplyPolicy(std::move(snapshots), ExpirePolicyOf(policy), Timestamp::Now());
  result.kept = chosen.keep.size();
  result.removed = chosen.remove.size();
  if (policy.dry_run || chosen.remove.empty()) return result;
  for (const auto& [id, snapshot] : chosen.remove) {
    Status s = repo.backend().Remove(FileType::kSnapshot, id.Hex());
    if (!s.ok()) return s.error().Wrap("unable to remove snapshots/" + id.Hex());
  }
  if (!policy.prune) return result;
  STASH_ASSIGN_OR_RETURN(auto stats, Prune(repo, PruneOptions{}));
  (void)stats;
  result.pruned = true;
  return result;
}

}  // namespace stash::agent
