#include "agent/metrics.h"

#include <cctype>
#include <cstdio>

#include "base/go_json.h"
#include "net/http_client.h"
#include "net/url.h"

namespace stash::agent {
namespace {

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// A label value in the text format: backslash, quote and newline escaped.
std::string Quoted(std::string_view v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out + "\"";
}

void Gauge(std::string& out, const char* name, const char* help) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n";
}

// A value as the downward API writes it (Go's %q), unquoted; a value not
// in that form is taken as written.
std::string Unquote(std::string_view v) {
  if (v.size() < 2 || v.front() != '"' || v.back() != '"') return std::string(v);
  auto inner = GoUnquoteInner(v.substr(1, v.size() - 2));
  return inner ? *inner : std::string(v);
}

}  // namespace

std::string MetricsText(const SessionMetrics& m) {
  std::string out;
  Gauge(out, "restic_session_success", "Indicates if session was successfully completed");
  out += "restic_session_success " + std::string(m.success ? "1" : "0") + "\n";
  Gauge(out, "restic_session_fail", "Indicates if session failed");
  out += "restic_session_fail " + std::string(m.success ? "0" : "1") + "\n";
  Gauge(out, "restic_session_duration_seconds_total", "Total seconds taken to complete restic session");
  out += "restic_session_duration_seconds_total " + Number(m.duration_seconds) + "\n";
  if (m.operations.empty()) return out;
  Gauge(out, "restic_session_duration_seconds", "Total seconds taken to complete restic session");
  for (const auto& op : m.operations) {
    out += "restic_session_duration_seconds{filegroup=" + Quoted(SanitizeLabelValue(op.file_group)) +
           ",op=" + Quoted(op.op) + "} " + Number(op.seconds) + "\n";
  }
  return out;
}

std::string SanitizeLabelName(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  return out;
}

std::string SanitizeLabelValue(std::string_view value) {
  std::string out(value);
  for (char& c : out) {
    if (c == '/') c = '|';
  }
  return out;
}

std::string PushJobName(const std::string& ns, const std::string& restic) {
  return SanitizeLabelValue(ns + "-" + restic);
}

std::map<std::string, std::string> ParsePodLabels(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    out[std::string(line.substr(0, eq))] = Unquote(line.substr(eq + 1));
  }
  return out;
}

std::map<std::string, std::string> GroupingLabels(const Workload& w, const std::string& ns, const std::string& restic,
                                                  const std::map<std::string, std::string>& pod_labels) {
  std::map<std::string, std::string> labels = {{"app", SanitizeLabelValue(w.name)},
                                               {"kind", SanitizeLabelValue(w.kind)},
                                               {"namespace", ns},
                                               {"stash_config", restic}};
  for (const auto& [key, value] : pod_labels) {
    if (key != "pod-template-hash") labels["pod_" + SanitizeLabelName(key)] = SanitizeLabelValue(value);
  }
  return labels;
}

std::string PushPath(const std::string& job, const std::map<std::string, std::string>& labels) {
  std::string path = "/metrics/job/" + http::UriEncode(job, false);
  for (const auto& [name, value] : labels) {
    path.append("/").append(http::UriEncode(name, false));
    if (value.empty()) {
      path.append("@base64/=");
    } else {
      path.append("/").append(http::UriEncode(value, false));
    }
  }
  return path;
}

Status PushMetrics(const std::string& url, const std::string& job, const std::map<std::string, std::string>& labels,
                   const std::string& text) {
  auto parsed = http::ParseUrl(url);
  if (!parsed.ok()) return parsed.error().Wrap("pushgateway url \"" + url + "\"");
  http::HttpOptions options;
  options.connect_timeout = std::chrono::seconds(5);
  options.idle_timeout = std::chrono::seconds(15);
  options.retry.max_attempts = 3;
  STASH_ASSIGN_OR_RETURN(auto client, http::HttpClient::Create("pushgateway", *parsed, options));
  std::string base = parsed->path;
  while (!base.empty() && base.back() == '/') base.pop_back();
  http::HttpRequest request;
  request.method = "PUT";
  request.target = base + PushPath(job, labels);
  request.headers = {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}};
  request.body = AsBytes(text);
  request.what = request.target;
  STASH_ASSIGN_OR_RETURN(auto response, client->Do(request));
  if (response.status / 100 != 2) {
    return http::StatusError("pushgateway", parsed->Origin() + request.target, response, response.BodyText());
  }
  return Status::Ok();
}

}  // namespace stash::agent
