#include "storage/lock.h"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "base/go_json.h"
#include "base/json_util.h"

namespace stash {
namespace {

using std::chrono::milliseconds;

// restic 0.14's timings: refresh every 5 minutes, stale after 30, and
// 200 ms between writing a lock and looking again for rivals.
std::atomic<int64_t> g_refresh_ms{5 * 60 * 1000};
std::atomic<int64_t> g_recheck_wait_ms{200};
constexpr int64_t kStaleAfterSeconds = 30 * 60;

std::string LocalHostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

std::string LocalUsername(uid_t uid) {
  struct passwd pw, *res = nullptr;
  char buf[4096];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &res) != 0 || !res) return "";
  return pw.pw_name;
}

// ".5", ".000001" or "" for the fraction of v / 10^prec, as Go prints it.
std::string GoFraction(uint64_t& v, int prec) {
  std::string digits(prec, '0');
  bool any = false;
  for (int i = prec - 1; i >= 0; --i) {
    int d = static_cast<int>(v % 10);
    any = any || d != 0;
    digits[i] = static_cast<char>('0' + d);
    v /= 10;
  }
  if (!any) return "";
  digits.erase(digits.find_last_not_of('0') + 1);
  return "." + digits;
}

// Go's time.Duration.String(): "3m2.5s", "1h0m0s", "512ms", "0s".
std::string GoDuration(int64_t nanos) {
  bool neg = nanos < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(nanos) : static_cast<uint64_t>(nanos);
  std::string out;
  if (u == 0) return "0s";
  if (u < 1000000000) {
    const char* unit = u < 1000 ? "ns" : u < 1000000 ? "\xC2\xB5s" : "ms";
    int prec = u < 1000 ? 0 : u < 1000000 ? 3 : 6;
    std::string frac = GoFraction(u, prec);
    out = std::to_string(u) + frac + unit;
  } else {
    std::string frac = GoFraction(u, 9);
    out = std::to_string(u % 60) + frac + "s";
    u /= 60;
    if (u > 0) {
      out = std::to_string(u % 60) + "m" + out;
      u /= 60;
      if (u > 0) out = std::to_string(u) + "h" + out;
    }
  }
  return neg ? "-" + out : out;
}

// to - from in nanoseconds, saturating like Go's Time.Sub: a lock file may
// say it was written in year 1 or 9999.
int64_t NanosBetween(const Timestamp& from, const Timestamp& to) {
  constexpr int64_t kMaxSeconds = INT64_MAX / 1000000000 - 1;
  int64_t seconds;
  if (__builtin_sub_overflow(to.seconds, from.seconds, &seconds) || seconds > kMaxSeconds) {
    return to.seconds > from.seconds ? INT64_MAX : INT64_MIN;
  }
  if (seconds < -kMaxSeconds) return INT64_MIN;
  return seconds * 1000000000 + (static_cast<int64_t>(to.nanos) - static_cast<int64_t>(from.nanos));
}

// Whether `lock` keeps a lock in `mode` from being taken.
bool Conflicts(LockMode mode, const LockInfo& lock) {
  return mode == LockMode::kExclusive || lock.exclusive;
}

// restic's alreadyLockedError text, on one line.
Error AlreadyLocked(const LockInfo& lock, const Id& id) {
  return Conflict(std::string("repository is already locked ") +
                  (lock.exclusive ? "exclusively " : "") + "by " +
                  DescribeLock(lock, id, Timestamp::Now()));
}

// The first readable lock other than `own` that conflicts with `mode`.
Status CheckForOtherLocks(Repository& repo, LockMode mode, const Id* own) {
  STASH_ASSIGN_OR_RETURN(auto locks, ListLocks(repo));
  for (const auto& [id, lock] : locks) {
    if (own && id == *own) continue;
    if (Conflicts(mode, lock)) return AlreadyLocked(lock, id);
  }
  return Status::Ok();
}

Result<Id> SaveLock(Repository& repo, const LockInfo& info) {
  return repo.SaveFile(FileType::kLock, AsBytes(EncodeLockInfo(info)));
}

// A lock file that is already gone counts as removed.
Status RemoveLockFile(Repository& repo, const Id& id) {
  Status s = repo.backend().Remove(FileType::kLock, id.Hex());
  if (!s.ok() && s.error().kind() == ErrorKind::kNotFound) return Status::Ok();
  return s;
}

}  // namespace

// ---- The held lock and its refresh thread ----

struct RepositoryLock::State {
  Repository& repo;
  LockInfo info;
  milliseconds refresh_every;
  std::mutex mu;  // guards everything below
  std::condition_variable wake;
  Id id;  // the current lock file; refreshing replaces it
  bool stopping = false;
  bool released = false;
  std::thread refresher;

  State(Repository& r, LockInfo i, Id first)
      : repo(r), info(std::move(i)), refresh_every(g_refresh_ms.load()), id(first) {}

  // Writes a fresh lock file before removing the old one, so the
  // repository is never unlocked in between. Called with `mu` held, which
  // makes Release wait for a refresh in progress and remove its result.
  void RefreshLocked() {
    info.time = Timestamp::Now();
    auto fresh = SaveLock(repo, info);
    if (!fresh.ok()) {
      std::fprintf(stderr, "unable to refresh lock: %s\n", fresh.error().message().c_str());
      return;
    }
    Id old = id;
    id = *fresh;
    Status removed = RemoveLockFile(repo, old);
    if (!removed.ok()) {
      std::fprintf(stderr, "unable to refresh lock: %s\n", removed.error().message().c_str());
    }
  }

  void RefreshLoop() {
    std::unique_lock<std::mutex> lock(mu);
    while (!wake.wait_for(lock, refresh_every, [this] { return stopping; })) RefreshLocked();
  }
};

RepositoryLock::RepositoryLock(std::unique_ptr<State> state) : state_(std::move(state)) {}

RepositoryLock::~RepositoryLock() { (void)Release(); }

void RepositoryLock::SetTimingForTest(milliseconds refresh, milliseconds recheck_wait) {
  g_refresh_ms = refresh.count();
  g_recheck_wait_ms = recheck_wait.count();
}

Result<std::unique_ptr<RepositoryLock>> RepositoryLock::Acquire(Repository& repo, LockMode mode) {
  LockInfo info = CurrentProcessLock(mode);
  STASH_RETURN_IF_ERROR(CheckForOtherLocks(repo, mode, nullptr));
  STASH_ASSIGN_OR_RETURN(Id id, SaveLock(repo, info));
  // Two processes may both have found the repository free; after a pause
  // each sees the other's file and at least one of them backs off. Only an
  // exclusive lock needs the pause: of a shared and an exclusive locker,
  // the exclusive one looks again 200 ms after writing its file, by when it
  // sees any shared lock written before that look, and a shared lock
  // written after it sees the exclusive file. Two shared locks never clash,
  // so a backup starts 200 ms sooner than restic's.
  if (mode == LockMode::kExclusive) std::this_thread::sleep_for(milliseconds(g_recheck_wait_ms.load()));
  Status again = CheckForOtherLocks(repo, mode, &id);
  if (!again.ok()) {
    (void)RemoveLockFile(repo, id);
    return again.error();
  }
  auto state = std::make_unique<State>(repo, std::move(info), id);
  State* raw = state.get();
  state->refresher = std::thread([raw] { raw->RefreshLoop(); });
  return std::unique_ptr<RepositoryLock>(new RepositoryLock(std::move(state)));
}

Status RepositoryLock::Release() {
  if (!state_) return Status::Ok();
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->released) return Status::Ok();
    state_->stopping = true;
    state_->released = true;
  }
  state_->wake.notify_all();
  if (state_->refresher.joinable()) state_->refresher.join();
  return RemoveLockFile(state_->repo, state_->id);
}

// ---- Removing locks ----

Result<int> RemoveLocks(Repository& repo, bool all) {
  int removed = 0;
  if (all) {
    // Every file goes, readable or not, as `restic unlock --remove-all`.
    STASH_ASSIGN_OR_RETURN(auto files, repo.backend().List(FileType::kLock));
    for (const auto& f : files) {
      STASH_RETURN_IF_ERROR(repo.backend().Remove(FileType::kLock, f.name));
      ++removed;
    }
    return removed;
  }
  STASH_ASSIGN_OR_RETURN(auto locks, ListLocks(repo));
  Timestamp now = Timestamp::Now();
  for (const auto& [id, lock] : locks) {
    if (!IsStale(lock, now)) continue;
    STASH_RETURN_IF_ERROR(RemoveLockFile(repo, id));
    ++removed;
  }
  return removed;
}

// ---- Lock files ----

std::string EncodeLockInfo(const LockInfo& lock) {
  std::string out = "{\"time\":\"" + FormatRfc3339Nano(lock.time) + "\",\"exclusive\":";
  out += lock.exclusive ? "true" : "false";
  out += ",\"hostname\":";
  AppendGoJsonString(out, lock.hostname);
  out += ",\"username\":";
  AppendGoJsonString(out, lock.username);
  out += ",\"pid\":" + std::to_string(lock.pid);
  if (lock.uid != 0) out += ",\"uid\":" + std::to_string(lock.uid);
  if (lock.gid != 0) out += ",\"gid\":" + std::to_string(lock.gid);
  return out + "}";
}

Result<LockInfo> DecodeLockInfo(ByteView bytes) {
  STASH_ASSIGN_OR_RETURN(auto doc, json::Parse(AsString(bytes), "lock"));
  if (!doc.IsObject()) return Corrupt("lock: not a JSON object");
  LockInfo lock;
  // Go leaves missing fields at their zero value; a zero time is very old,
  // so such a lock is stale, as restic would judge it.
  if (const auto* t = json::Member(doc, "time")) {
    auto parsed = t->IsString() ? ParseRfc3339(std::string_view(t->GetString(), t->GetStringLength()))
                                : std::nullopt;
    if (!parsed) return Corrupt("lock: invalid time");
    lock.time = *parsed;
  }
  if (const auto* e = json::Member(doc, "exclusive")) {
    if (!e->IsBool()) return Corrupt("lock: exclusive is not a boolean");
    lock.exclusive = e->GetBool();
  }
  lock.hostname = GoJsonStringValue(json::String(doc, "hostname").value_or(""));
  lock.username = GoJsonStringValue(json::String(doc, "username").value_or(""));
  if (const auto* p = json::Member(doc, "pid")) {
    if (!p->IsInt64()) return Corrupt("lock: pid is not an integer");
    lock.pid = p->GetInt64();
  }
  for (auto [key, field] : {std::pair{"uid", &lock.uid}, std::pair{"gid", &lock.gid}}) {
    const auto* v = json::Member(doc, key);
    if (!v) continue;
    if (!v->IsUint()) return Corrupt(std::string("lock: ") + key + " is not a uint32");
    *field = v->GetUint();
  }
  return lock;
}

LockInfo CurrentProcessLock(LockMode mode) {
  LockInfo lock;
  lock.time = Timestamp::Now();
  lock.exclusive = mode == LockMode::kExclusive;
  lock.hostname = LocalHostname();
  lock.username = LocalUsername(::getuid());
  lock.pid = ::getpid();
  lock.uid = ::getuid();
  lock.gid = ::getgid();
  return lock;
}

bool IsStale(const LockInfo& lock, const Timestamp& now) {
  if (NanosBetween(lock.time, now) > kStaleAfterSeconds * 1000000000LL) return true;
  std::string host = LocalHostname();
  if (host.empty() || host != lock.hostname) return false;  // cannot tell: assume alive
  // restic sends SIGHUP (which it ignores); signal 0 asks the same question
  // without disturbing a process that happens to reuse the PID.
  if (lock.pid <= 0 || lock.pid > INT32_MAX) return true;
  return ::kill(static_cast<pid_t>(lock.pid), 0) != 0 && errno == ESRCH;
}

std::string DescribeLock(const LockInfo& lock, const Id& id, const Timestamp& now) {
  return "PID " + std::to_string(lock.pid) + " on " + lock.hostname + " by " + lock.username +
         " (UID " + std::to_string(lock.uid) + ", GID " + std::to_string(lock.gid) +
         "); lock was created at " + FormatTableTime(lock.time) + " (" +
         GoDuration(NanosBetween(lock.time, now)) + " ago); storage ID " + id.Short();
}

Result<std::vector<std::pair<Id, LockInfo>>> ListLocks(Repository& repo) {
  STASH_ASSIGN_OR_RETURN(auto files, repo.backend().List(FileType::kLock));
  std::vector<std::pair<Id, LockInfo>> out;
  for (const auto& f : files) {
    auto id = Id::FromHex(f.name);
    if (!id || f.size == 0) continue;  // empty: an upload that never finished
    // A lock we cannot read may be half-written, foreign or removed just
    // now; restic 0.14 ignores it, and so do we.
    auto plain = repo.LoadFile(FileType::kLock, *id);
    if (!plain.ok()) continue;
    auto lock = DecodeLockInfo(*plain);
    if (!lock.ok()) continue;
    out.emplace_back(*id, std::move(*lock));
  }
  return out;
}

}  // namespace stash
