#include "storage/backends/backend_options.h"

#include <cstdlib>

namespace stash {

std::string BackendOptions::Get(const std::string& name, const std::string& fallback) const {
  std::string value = env ? env(name) : "";
  return value.empty() ? fallback : value;
}

BackendOptions BackendOptionsFromEnvironment() {
  BackendOptions options;
  options.http = http::HttpOptionsFromEnvironment();
  options.env = [](const std::string& name) {
    const char* v = std::getenv(name.c_str());
    return std::string(v ? v : "");
  };
  return options;
}

}  // namespace stash
