#include "apiserver/machinery/health.h"

#include <algorithm>

namespace stash::apiserver {

void HealthChecks::Add(std::string name, std::function<bool()> check, Scope scope) {
  std::lock_guard<std::mutex> lock(mu_);
  checks_.push_back({std::move(name), std::move(check), scope});
}

bool HealthChecks::Serve(const std::string& path, const Query& query, Response& response) const {
  for (const char* endpoint : {"healthz", "livez", "readyz"}) {
    std::string base = std::string("/") + endpoint;
    if (path == base || path == base + "/") {
      response = Run(endpoint, "", query);
      return true;
    }
    if (path.rfind(base + "/", 0) == 0) {
      response = Run(endpoint, path.substr(base.size() + 1), query);
      return true;
    }
  }
  return false;
}

Response HealthChecks::Run(const std::string& endpoint, const std::string& only,
                           const Query& query) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto excluded = query.GetAll("exclude");
  Response r;
  r.content_type = "text/plain; charset=utf-8";
  r.headers.Add("X-Content-Type-Options", "nosniff");
  std::string lines;
  bool failed = false, found = only.empty();
  for (const auto& c : checks_) {
    if (c.scope == kReadyOnly && endpoint != "readyz") continue;
    if (!only.empty() && c.name != only) continue;
    found = true;
    if (std::find(excluded.begin(), excluded.end(), c.name) != excluded.end()) {
      lines += "[+]" + c.name + " excluded: ok\n";
      continue;
    }
    bool ok = c.run();
    failed = failed || !ok;
    lines += ok ? "[+]" + c.name + " ok\n" : "[-]" + c.name + " failed: reason withheld\n";
  }
  if (!found) {
    r.status = 404;
    r.body = "404 page not found\n";
    return r;
  }
  if (!only.empty()) {
    r.status = failed ? 500 : 200;
    r.body = failed ? "internal server error: " + only + " failed\n" : "ok";
    return r;
  }
  if (failed) {
    r.status = 500;
    r.body = lines + endpoint + " check failed\n";
  } else {
    r.body = query.Has("verbose") ? lines + endpoint + " check passed\n" : "ok";
  }
  return r;
}

}  // namespace stash::apiserver
