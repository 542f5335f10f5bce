// BackendOptions: what a remote backend needs besides its location.
//
// Credentials and other settings are read through `env` under restic's
// environment variable names (AWS_ACCESS_KEY_ID, AZURE_ACCOUNT_KEY, ...): the
// command line passes the process environment, the apiserver the data of a
// Repository's storage Secret, and both open backends the same way.
#pragma once

#include <functional>
#include <string>

#include "net/http_client.h"

namespace stash {

struct BackendOptions {
  http::HttpOptions http;
  // The value of a setting by its environment variable name; "" when unset.
  std::function<std::string(const std::string&)> env;

  // A setting, or `fallback` when it is unset or empty.
  std::string Get(const std::string& name, const std::string& fallback = "") const;
};

// Options from the process environment: HTTP knobs and restic's variables.
BackendOptions BackendOptionsFromEnvironment();

}  // namespace stash
