// The MutatingWebhookConfiguration `admission.stash.appscode.com` that sends
// workload creates and updates to the operator's webhook: one webhook per
// workload kind (deployment.admission.stash.appscode.com, ...), as Stash
// 0.8.3 named them; and the ValidatingWebhookConfiguration for Restics.
//
// failurePolicy Ignore: while no operator answers, workloads are admitted
// unchanged and the Restic controller adds the sidecar once it runs, so an
// operator outage never blocks a deployment. sideEffects None, so dry runs
// are reviewed too.
#pragma once

#include <string>

#include "base/result.h"
#include "kube/client.h"
#include "kube/serving_certificate.h"

namespace stash::op {

inline constexpr char kWebhookConfigurationName[] = "admission.stash.appscode.com";

// Where kube-apiserver reaches the webhook: `url` when set (an operator
// outside the cluster; the base its paths are appended to), else `service`.
struct WebhookEndpoint {
  std::string url;
  kube::ServiceRef service;
};

// The object, in JSON, trusting `ca_pem`.
std::string MutatingWebhookConfigurationJson(const WebhookEndpoint& endpoint, const std::string& ca_pem);

// The ValidatingWebhookConfiguration of the same name: restic.admission.stash.appscode.com
// refuses a Restic the sidecar could not run (CheckRestic in admission.h).
std::string ValidatingWebhookConfigurationJson(const WebhookEndpoint& endpoint, const std::string& ca_pem);

// Creates or updates both (server-side apply).
Status RegisterWebhooks(kube::Client& client, const WebhookEndpoint& endpoint, const std::string& ca_pem);

}  // namespace stash::op
