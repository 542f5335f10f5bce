#include "apiserver/snapshots/cluster_source.h"

#include "apiserver/snapshots/manifests.h"

namespace stash::apiserver {

ClusterSource::ClusterSource(kube::Client* client, kube::LogFn log)
    : log_(log),
      repositories_(client, kRepositories, "", {}, log),
      secrets_(client, kube::resources::kSecrets, "", {}, log),
      namespaces_(client, kube::resources::kNamespaces, "", {}, log) {
  kube::InformerHandlers changed;
  changed.on_add = [this](const kube::ObjectPtr&) { Rebuild(); };
  changed.on_update = [this](const kube::ObjectPtr&, const kube::ObjectPtr&) { Rebuild(); };
  changed.on_delete = [this](const kube::ObjectPtr&) { Rebuild(); };
  repositories_.AddHandlers(changed);
  secrets_.AddHandlers(changed);
  namespaces_.AddHandlers(changed);
}

ClusterSource::~ClusterSource() { Stop(); }

Status ClusterSource::Start(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (kube::Informer* i : {&namespaces_, &secrets_, &repositories_}) i->Start();
  for (kube::Informer* i : {&namespaces_, &secrets_, &repositories_}) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (!i->WaitForSync(std::max(left, std::chrono::milliseconds(1)))) {
      std::string why = i->problem();
      const kube::Resource& r = i->resource();
      return IOError("cannot list " + r.plural + (r.group.empty() ? "" : "." + r.group) +
                     (why.empty() ? ": timed out" : ": " + why));
    }
  }
  Rebuild();
  return Status::Ok();
}

void ClusterSource::Stop() {
  for (kube::Informer* i : {&repositories_, &secrets_, &namespaces_}) i->Stop();
}

// Secrets of namespaces that hold no Repository are skipped: only the
// Repositories' own Secrets matter, and most Secrets are not ours.
void ClusterSource::Rebuild() {
  if (!repositories_.synced() || !secrets_.synced()) return;
  std::lock_guard<std::mutex> rebuilding(rebuild_mu_);
  Manifests all;
  std::set<std::string> wanted_namespaces;
  for (const auto& object : repositories_.List()) {
    auto parsed = ParseManifests(kube::ToJson(*object), "Repository " + kube::KeyOf(*object));
    if (!parsed.ok()) {
      if (log_) log_(parsed.error().message());
      continue;
    }
    wanted_namespaces.insert(kube::Namespace(*object));
    all.Merge(std::move(*parsed));
  }
  for (const auto& ns : wanted_namespaces) {
    for (const auto& object : secrets_.List(ns)) {
      auto parsed = ParseManifests(kube::ToJson(*object), "Secret " + kube::KeyOf(*object));
      if (parsed.ok()) all.Merge(std::move(*parsed));
    }
  }
  auto resolved = ResolveRepositories(all);
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (resolved == resolved_) return;
    resolved_ = std::move(resolved);
    callbacks = callbacks_;
  }
  for (const auto& c : callbacks) c();
}

std::vector<RepositorySpec> ClusterSource::Repositories() {
  std::lock_guard<std::mutex> lock(mu_);
  return resolved_;
}

void ClusterSource::OnChange(std::function<void()> callback) {
  std::lock_guard<std::mutex> lock(mu_);
  callbacks_.push_back(std::move(callback));
}

std::optional<std::string> ClusterSource::NamespacePhase(const std::string& ns) const {
  kube::ObjectPtr n = namespaces_.Get("", ns);
  if (!n) return std::nullopt;
  std::string phase = kube::StringAt(*n, "/status/phase");
  if (phase == "Terminating" || kube::BeingDeleted(*n)) return "Terminating";
  return phase.empty() ? "Active" : phase;
}

bool ClusterSource::NamespaceTerminating(const std::string& ns) {
  return NamespacePhase(ns) == std::optional<std::string>("Terminating");
}

std::string ClusterSource::Staleness() const {
  for (const kube::Informer* i : {&repositories_, &secrets_, &namespaces_}) {
    std::string why = i->problem();
    if (!why.empty()) {
      return "the list of " + i->resource().plural + " may be out of date: " + why;
    }
  }
  return "";
}

}  // namespace stash::apiserver
