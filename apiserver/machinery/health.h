// /healthz, /livez and /readyz as k8s.io/apiserver serves them: "ok", or
// with ?verbose one "[+]name ok" / "[-]name failed: reason withheld" line
// per check; /<endpoint>/<check> runs one check; ?exclude=name skips one.
// Checks must answer at once: none of them touches a backend.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "apiserver/machinery/server_types.h"

namespace stash::apiserver {

class HealthChecks {
 public:
  enum Scope { kAll, kReadyOnly };  // readyz-only checks (shutdown, ...)

  void Add(std::string name, std::function<bool()> check, Scope scope = kAll);

  // Whether `path` is a health path; fills `response` when it is.
  bool Serve(const std::string& path, const Query& query, Response& response) const;

 private:
  struct Check {
    std::string name;
    std::function<bool()> run;
    Scope scope;
  };
  Response Run(const std::string& endpoint, const std::string& only, const Query& query) const;

  mutable std::mutex mu_;
  std::vector<Check> checks_;
};

}  // namespace stash::apiserver
