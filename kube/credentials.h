// Bearer tokens for requests to the API server, from whichever source the
// kubeconfig or pod names: a fixed token, a token file (re-read at most once
// a minute, since the kubelet rotates service-account tokens), or an exec
// credential plugin (run as kubectl runs it: its env added to ours,
// KUBERNETES_EXEC_INFO set, ExecCredential JSON read from its stdout; the
// token kept until its expirationTimestamp). Safe to share between threads.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "base/result.h"
#include "kube/config.h"

namespace stash::kube {

// What an exec plugin printed.
struct ExecCredential {
  std::string token;
  std::string client_cert_pem, client_key_pem;
  std::chrono::system_clock::time_point expires{};  // epoch: never
};

// Parses an ExecCredential (status.token, status.clientCertificateData,
// status.clientKeyData, status.expirationTimestamp in RFC 3339).
Result<ExecCredential> ParseExecCredential(std::string_view json, const std::string& api_version);

// Runs the plugin and parses what it prints; kAuth naming the command when
// it fails (with its install hint when it cannot be started).
Result<ExecCredential> RunExecPlugin(const ExecConfig& exec);

class Credentials {
 public:
  explicit Credentials(ClusterAccess access) : access_(std::move(access)) {}

  // The token to send, "" for none (client certificates only).
  Result<std::string> Token();
  // The server refused the token (401): read or run it again next time.
  void Invalidate();
  // Whether Invalidate can help: the token comes from a file or a plugin.
  bool Refreshable() const { return !access_.token_file.empty() || access_.exec.has_value(); }

 private:
  ClusterAccess access_;
  std::mutex mu_;
  std::string token_;
  std::chrono::steady_clock::time_point read_at_{};
  std::chrono::system_clock::time_point expires_{};
  bool have_ = false;
};

}  // namespace stash::kube
