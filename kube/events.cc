#include "kube/events.h"

#include <ctime>
#include <random>

#include "base/json_out.h"

namespace stash::kube {
namespace {

constexpr auto kAggregateWindow = std::chrono::minutes(10);

std::string RandomSuffix() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

}  // namespace

std::string Rfc3339(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Rfc3339Now() { return Rfc3339(std::chrono::system_clock::now()); }

std::string Rfc3339Micro(std::chrono::system_clock::time_point t) {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() % 1000000;
  std::string s = Rfc3339(t);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06lldZ", static_cast<long long>(micros));
  s.pop_back();  // 'Z'
  return s + frac;
}

ObjectReference ObjectReference::Of(const Json& object) {
  ObjectReference r;
  r.api_version = StringOf(object, "apiVersion");
  r.kind = StringOf(object, "kind");
  r.ns = Namespace(object);
  r.name = Name(object);
  r.uid = Uid(object);
  r.resource_version = ResourceVersion(object);
  return r;
}

EventRecorder::EventRecorder(Client* client, std::string component, std::string host, LogFn log)
    : client_(client), component_(std::move(component)), host_(std::move(host)), log_(std::move(log)) {}

bool EventRecorder::Bump(Seen& seen, const std::string& now) {
  std::string patch = "{\"count\":" + std::to_string(seen.count + 1) + ",\"lastTimestamp\":\"" + now + "\"}";
  auto r = client_->Patch(resources::kEvents, seen.ns, seen.name, PatchType::kMerge, patch);
  if (!r.ok()) return false;
  ++seen.count;
  seen.at = std::chrono::steady_clock::now();
  return true;
}

void EventRecorder::Record(const ObjectReference& about, const std::string& type, const std::string& reason,
                           const std::string& message) {
  // Events of cluster-scoped objects go to "default", as client-go does.
  std::string ns = about.ns.empty() ? "default" : about.ns;
  std::string now = Rfc3339Now();
  std::string key = about.uid + "\n" + about.kind + "/" + ns + "/" + about.name + "\n" + type + "\n" + reason +
                    "\n" + message;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = seen_.find(key);
  if (it != seen_.end() && std::chrono::steady_clock::now() - it->second.at < kAggregateWindow &&
      Bump(it->second, now)) {
    return;
  }
  std::string name = about.name + "." + RandomSuffix();
  JsonOut j;
  j.Open().Field("apiVersion", "v1").Field("kind", "Event");
  j.Key("metadata").Open().Field("name", name).Field("namespace", ns).Close();
  j.Key("involvedObject").Open().Field("apiVersion", about.api_version).Field("kind", about.kind)
      .Field("namespace", about.ns).Field("name", about.name).Field("uid", about.uid)
      .Field("resourceVersion", about.resource_version).Close();
  j.Field("type", type).Field("reason", reason).Field("message", message);
  j.Key("source").Open().Field("component", component_);
  if (!host_.empty()) j.Field("host", host_);
  j.Close();
  j.Field("firstTimestamp", now).Field("lastTimestamp", now).FieldInt("count", 1);
  j.Field("reportingComponent", component_).Field("reportingInstance", host_.empty() ? component_ : host_);
  j.Close();
  auto created = client_->Create(resources::kEvents, ns, j.Take());
  if (!created.ok()) {
    if (log_) log_("event " + reason + " for " + about.kind + " " + ns + "/" + about.name + " not recorded: " +
                   created.error().message());
    return;
  }
  seen_[key] = Seen{ns, name, 1, std::chrono::steady_clock::now()};
  if (seen_.size() > 4096) seen_.erase(seen_.begin());  // bounded memory; the oldest-keyed go first
}

}  // namespace stash::kube
