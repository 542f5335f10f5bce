// stash apiserver: the Snapshot extension apiserver
// (repositories.stash.appscode.com/v1alpha1), with the serving flags
// Kubernetes apiservers use. Standalone mode serves the Repositories of a
// folder of manifests and writes a kubeconfig for kubectl.
#include <malloc.h>

#include <cctype>
#include <algorithm>
#include <charconv>
#include <string_view>

#include "apiserver/apiserver.h"
#include "cmd/commands.h"

namespace stash::cli {
namespace {

// A Go duration ("500ms", "2s", "1m30s"); a bare number means seconds.
Result<std::chrono::milliseconds> ParseDuration(const std::string& flag, const std::string& text) {
  std::string message = "invalid argument \"";
  message += text;
  message += "\" for \"--";
  message += flag;
  message += "\" flag: time: invalid duration";
  Error bad = Invalid(message);
  if (text.empty()) return bad;
  double total_ms = 0;
  size_t i = 0;
  bool bare = text.find_first_not_of("0123456789.") == std::string::npos;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (i == start) return bad;
    double n = std::stod(text.substr(start, i - start));
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = std::string_view(text).substr(unit_start, i - unit_start);
    if (unit.empty() && bare) unit = "s";
    if (unit == "ms") total_ms += n;
    else if (unit == "s") total_ms += n * 1000;
    else if (unit == "m") total_ms += n * 60000;
    else if (unit == "h") total_ms += n * 3600000;
    else return bad;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(total_ms));
}

Status ReadDuration(const Args& args, const std::string& flag, std::chrono::milliseconds& out) {
  if (!args.Has(flag)) return Status::Ok();
  STASH_ASSIGN_OR_RETURN(out, ParseDuration(flag, args.Get(flag)));
  return Status::Ok();
}

// A Kubernetes string-slice flag: comma lists, and the flag may repeat.
std::vector<std::string> ReadList(const Args& args, const std::string& flag) {
  std::vector<std::string> out;
  for (const auto& v : args.GetAll(flag)) {
    size_t start = 0;
    while (start <= v.size()) {
      size_t comma = std::min(v.find(',', start), v.size());
      std::string item = v.substr(start, comma - start);
      if (!item.empty()) out.push_back(std::move(item));
      start = comma + 1;
    }
  }
  return out;
}

// A list flag's value when given (an empty value clears the default).
void ReadListInto(const Args& args, const std::string& flag, std::vector<std::string>& out) {
  if (args.Has(flag)) out = ReadList(args, flag);
}

// A thread or queue count: a whole number from 1 to 1024.
Status ReadCount(const Args& args, const std::string& flag, size_t& out) {
  if (!args.Has(flag)) return Status::Ok();
  const std::string v = args.Get(flag);
  size_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < 1 || n > 1024) {
    return Invalid("invalid argument \"" + v + "\" for \"--" + flag + "\" flag: want a number from 1 to 1024");
  }
  out = n;
  return Status::Ok();
}

Status ReadThreadOptions(const Args& args, apiserver::Options& o) {
  STASH_RETURN_IF_ERROR(ReadCount(args, "network-threads", o.network_threads));
  STASH_RETURN_IF_ERROR(ReadCount(args, "request-threads", o.request_threads));
  STASH_RETURN_IF_ERROR(ReadCount(args, "backend-threads", o.backend_threads));
  STASH_RETURN_IF_ERROR(ReadCount(args, "auth-threads", o.auth_threads));
  return ReadCount(args, "max-queued-reviews", o.max_queued_reviews);
}

Status ReadAuthOptions(const Args& args, apiserver::Options& o) {
  o.requestheader_client_ca_file = args.Get("requestheader-client-ca-file");
  ReadListInto(args, "requestheader-allowed-names", o.requestheader.allowed_names);
  ReadListInto(args, "requestheader-username-headers", o.requestheader.username_headers);
  ReadListInto(args, "requestheader-group-headers", o.requestheader.group_headers);
  ReadListInto(args, "requestheader-extra-headers-prefix", o.requestheader.extra_prefixes);
  o.authentication_kubeconfig = args.Get("authentication-kubeconfig");
  o.authorization_kubeconfig = args.Get("authorization-kubeconfig");
  STASH_RETURN_IF_ERROR(ReadDuration(args, "authentication-token-webhook-cache-ttl", o.token_cache_ttl));
  STASH_RETURN_IF_ERROR(
      ReadDuration(args, "authorization-webhook-cache-authorized-ttl", o.authorized_cache_ttl));
  STASH_RETURN_IF_ERROR(
      ReadDuration(args, "authorization-webhook-cache-unauthorized-ttl", o.unauthorized_cache_ttl));
  ReadListInto(args, "authorization-always-allow-paths", o.always_allow_paths);
  return Status::Ok();
}

Result<apiserver::Options> OptionsFromArgs(const Args& args) {
  apiserver::Options o;
  o.bind_address = args.Get("bind-address", o.bind_address);
  if (args.Has("secure-port")) {
    const std::string v = args.Get("secure-port");
    int port = -1;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), port);
    if (ec != std::errc() || end != v.data() + v.size() || port < 0 || port > 65535) {
      return Invalid("invalid argument \"" + v + "\" for \"--secure-port\" flag");
    }
    o.secure_port = port;
  }
  o.tls_cert_file = args.Get("tls-cert-file");
  o.tls_private_key_file = args.Get("tls-private-key-file");
  o.client_ca_files = args.GetAll("client-ca-file");
  STASH_RETURN_IF_ERROR(ReadAuthOptions(args, o));
  o.standalone_manifests = args.Get("standalone-manifests");
  o.standalone_kubeconfig = args.Get("standalone-kubeconfig");
  o.kubeconfig = args.Get("kubeconfig");
  o.apiservice_service = args.Get("apiservice-service", o.apiservice_service);
  o.serving_cert_secret = args.Get("serving-cert-secret", o.serving_cert_secret);
  o.register_apiservice = !args.Has("no-register-apiservice");
  STASH_RETURN_IF_ERROR(ReadDuration(args, "snapshot-refresh-interval", o.refresh_interval));
  STASH_RETURN_IF_ERROR(ReadDuration(args, "backend-timeout", o.backend_timeout));
  STASH_RETURN_IF_ERROR(ReadDuration(args, "read-timeout", o.read_timeout));
  STASH_RETURN_IF_ERROR(ReadDuration(args, "prune-delay", o.prune_delay));
  o.prune_after_delete = !args.Has("no-prune");
  std::chrono::milliseconds min_request = o.min_request_timeout;
  STASH_RETURN_IF_ERROR(ReadDuration(args, "min-request-timeout", min_request));
  o.min_request_timeout = std::chrono::duration_cast<std::chrono::seconds>(min_request);
  STASH_RETURN_IF_ERROR(ReadDuration(args, "shutdown-delay-duration", o.shutdown_delay));
  STASH_RETURN_IF_ERROR(ReadThreadOptions(args, o));
  if (o.refresh_interval.count() <= 0) return Invalid("--snapshot-refresh-interval must be positive");
  return o;
}

int RunApiserver(const Args& args, const Globals&) {
  if (!args.positional().empty()) return Fatal("apiserver takes no arguments");
  auto options = OptionsFromArgs(args);
  if (!options.ok()) return Fatal(options.error());
  // A list is megabytes (5 MB for 10,000 snapshots), built and freed per
  // request. Above main's 1 MiB mmap threshold each one was fresh pages, a
  // page fault per 4 KiB (2 to 3 ms of server CPU per 100 x 100 list); the
  // server's heap keeps them for the next list instead.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  return apiserver::Run(*options);
}

std::vector<FlagSpec> ApiserverFlags() {
  return {
      {"secure-port", 0, true, "port to serve HTTPS on (default 8443; 0 picks a free one)"},
      {"bind-address", 0, true, "IP address to listen on (default 0.0.0.0)"},
      {"tls-cert-file", 0, true, "serving certificate (PEM, with intermediates); generated when not given"},
      {"tls-private-key-file", 0, true, "key of --tls-cert-file (PEM)"},
      {"client-ca-file", 0, true, "accept client certificates signed by this CA bundle (PEM): user = CN, groups = O"},
      {"requestheader-client-ca-file", 0, true,
       "CA bundle of front-proxy client certificates; only they may name the user in request headers"},
      {"requestheader-allowed-names", 0, true,
       "common names of allowed front-proxy certificates (comma list; empty: any signed by the CA)"},
      {"requestheader-username-headers", 0, true, "headers naming the user (default X-Remote-User)"},
      {"requestheader-group-headers", 0, true, "headers naming the groups (default X-Remote-Group)"},
      {"requestheader-extra-headers-prefix", 0, true, "prefixes of extra user info headers (default X-Remote-Extra-)"},
      {"authentication-kubeconfig", 0, true,
       "kubeconfig of the API server that reviews bearer tokens (TokenReview); in a pod: the service account"},
      {"authorization-kubeconfig", 0, true,
       "kubeconfig of the API server that authorizes requests (SubjectAccessReview); in a pod: the service account"},
      {"authentication-token-webhook-cache-ttl", 0, true, "how long token reviews are cached (default 10s)"},
      {"authorization-webhook-cache-authorized-ttl", 0, true, "how long allowed decisions are cached (default 10s)"},
      {"authorization-webhook-cache-unauthorized-ttl", 0, true, "how long denied decisions are cached (default 10s)"},
      {"authorization-always-allow-paths", 0, true,
       "paths served without authorization, also to anonymous requests (default /healthz,/readyz,/livez)"},
      {"kubeconfig", 0, true,
       "cluster to serve the Repositories of (default: $KUBECONFIG, then the pod's service account)"},
      {"apiservice-service", 0, true,
       "NAMESPACE/NAME:PORT of the Service the APIService points at (default stash/stash-apiserver:443)"},
      {"no-register-apiservice", 0, false, "leave the APIService alone (registered by manifests instead)"},
      {"serving-cert-secret", 0, true,
       "NAMESPACE/NAME of the Secret that keeps the generated serving certificate, shared by replicas "
       "(default stash/stash-apiserver-cert)"},
      {"standalone-manifests", 0, true, "serve the Repositories and Secrets of this folder of manifests (no cluster)"},
      {"standalone-kubeconfig", 0, true, "write a kubeconfig for kubectl (CA and admin certificate) here"},
      {"snapshot-refresh-interval", 0, true, "how often snapshots/ folders are listed (default 2s)"},
      {"backend-timeout", 0, true, "how long a request waits for repositories still loading (default 10s)"},
      {"prune-delay", 0, true, "prune a repository this long after snapshots were deleted from it (default 30s)"},
      {"no-prune", 0, false, "deletes only remove the snapshot file, as restic forget without --prune"},
      {"read-timeout", 0, true, "time allowed for a TLS handshake or one whole request (default 30s)"},
      {"min-request-timeout", 0, true, "watches end after a random time between this and twice it (default 30m)"},
      {"shutdown-delay-duration", 0, true, "time /readyz fails before the server stops on SIGTERM"},
      {"network-threads", 0, true, "threads that accept, read and write connections; they never wait (default 2)"},
      {"request-threads", 0, true, "threads that answer resource requests from the snapshot caches (default 8)"},
      {"backend-threads", 0, true, "threads that read repositories (default 8)"},
      {"auth-threads", 0, true,
       "threads that wait on TokenReview and SubjectAccessReview calls; cached answers need none (default 8)"},
      {"max-queued-reviews", 0, true,
       "requests that may wait for a free auth thread; beyond them the answer is 429 (default 64)"},
  };
}

}  // namespace

Command ApiserverCommand() {
  return {"apiserver", "Serve the Snapshot API (repositories.stash.appscode.com) over HTTPS",
          ApiserverFlags(), RunApiserver, "[flags]", /*uses_repository=*/false};
}

}  // namespace stash::cli
