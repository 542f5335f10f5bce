// stash apiserver: the Snapshot extension apiserver
// (repositories.stash.appscode.com/v1alpha1), with the serving flags
// Kubernetes apiservers use. Standalone mode serves the Repositories of a
// folder of manifests and writes a kubeconfig for kubectl.
#include <cctype>
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
  o.standalone_manifests = args.Get("standalone-manifests");
  o.standalone_kubeconfig = args.Get("standalone-kubeconfig");
  STASH_RETURN_IF_ERROR(ReadDuration(args, "snapshot-refresh-interval", o.refresh_interval));
  STASH_RETURN_IF_ERROR(ReadDuration(args, "backend-timeout", o.backend_timeout));
  STASH_RETURN_IF_ERROR(ReadDuration(args, "read-timeout", o.read_timeout));
  std::chrono::milliseconds min_request = o.min_request_timeout;
  STASH_RETURN_IF_ERROR(ReadDuration(args, "min-request-timeout", min_request));
  o.min_request_timeout = std::chrono::duration_cast<std::chrono::seconds>(min_request);
  STASH_RETURN_IF_ERROR(ReadDuration(args, "shutdown-delay-duration", o.shutdown_delay));
  if (o.refresh_interval.count() <= 0) return Invalid("--snapshot-refresh-interval must be positive");
  return o;
}

int RunApiserver(const Args& args, const Globals&) {
  if (!args.positional().empty()) return Fatal("apiserver takes no arguments");
  auto options = OptionsFromArgs(args);
  if (!options.ok()) return Fatal(options.error());
  return apiserver::Run(*options);
}

std::vector<FlagSpec> ApiserverFlags() {
  return {
      {"secure-port", 0, true, "port to serve HTTPS on (default 8443; 0 picks a free one)"},
      {"bind-address", 0, true, "IP address to listen on (default 0.0.0.0)"},
      {"tls-cert-file", 0, true, "serving certificate (PEM, with intermediates); generated when not given"},
      {"tls-private-key-file", 0, true, "key of --tls-cert-file (PEM)"},
      {"client-ca-file", 0, true, "also accept client certificates signed by this CA bundle (PEM)"},
      {"standalone-manifests", 0, true, "serve the Repositories and Secrets of this folder of manifests"},
      {"standalone-kubeconfig", 0, true, "write a kubeconfig for kubectl (CA and admin certificate) here"},
      {"snapshot-refresh-interval", 0, true, "how often snapshots/ folders are listed (default 2s)"},
      {"backend-timeout", 0, true, "how long a request waits for repositories still loading (default 10s)"},
      {"read-timeout", 0, true, "time allowed for a TLS handshake or one whole request (default 30s)"},
      {"min-request-timeout", 0, true, "watches end after a random time between this and twice it (default 30m)"},
      {"shutdown-delay-duration", 0, true, "time /readyz fails before the server stops on SIGTERM"},
  };
}

}  // namespace

Command ApiserverCommand() {
  return {"apiserver", "Serve the Snapshot API (repositories.stash.appscode.com) over HTTPS",
          ApiserverFlags(), RunApiserver};
}

}  // namespace stash::cli
