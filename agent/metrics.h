// The metrics of one backup session, named and grouped as Stash 0.8.3's
// sidecar pushed them to a Prometheus Pushgateway:
//
//   restic_session_success                  1 when every file group was backed up and thinned, else 0
//   restic_session_fail                     the opposite
//   restic_session_duration_seconds_total   the whole session
//   restic_session_duration_seconds{filegroup="<path, / as |>",op="backup"|"forget"}
//
// all gauges, PUT (replacing the group's previous values) to
// <url>/metrics/job/<namespace>-<restic>/app/<workload>/kind/<kind>/
// namespace/<ns>/stash_config/<restic>/pod_<label>/<value>... where every
// pod label but pod-template-hash becomes a pod_<name> grouping label
// (names: characters outside [a-zA-Z0-9_] as _, values: / as |).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/workload.h"
#include "base/result.h"

namespace stash::agent {

struct SessionMetrics {
  bool success = false;
  double duration_seconds = 0;
  struct Operation {
    std::string file_group;  // the path
    std::string op;          // "backup" or "forget"
    double seconds = 0;
  };
  std::vector<Operation> operations;
};

// Prometheus text format (0.0.4), with HELP and TYPE lines.
std::string MetricsText(const SessionMetrics& metrics);

std::string SanitizeLabelName(std::string_view name);    // [^a-zA-Z0-9_] -> _
std::string SanitizeLabelValue(std::string_view value);  // / -> |

// <namespace>-<restic>, sanitized.
std::string PushJobName(const std::string& ns, const std::string& restic);

// The pod's labels from the downward API file (/etc/stash/labels): one
// `key="value"` a line, values quoted as Go's %q quotes them.
std::map<std::string, std::string> ParsePodLabels(std::string_view text);

std::map<std::string, std::string> GroupingLabels(const Workload& workload, const std::string& ns,
                                                  const std::string& restic,
                                                  const std::map<std::string, std::string>& pod_labels);

// /metrics/job/<job>/<label>/<value>..., each part escaped for a URL path;
// an empty value as <label>@base64/= (the Pushgateway's form for it).
std::string PushPath(const std::string& job, const std::map<std::string, std::string>& labels);

// PUTs `text` to the Pushgateway at `url` (http or https, any base path).
// kIO or the gateway's answer naming the URL when it fails.
Status PushMetrics(const std::string& url, const std::string& job,
                   const std::map<std::string, std::string>& labels, const std::string& text);

}  // namespace stash::agent
