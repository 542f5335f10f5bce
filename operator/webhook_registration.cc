#include "operator/webhook_registration.h"

#include "base/json_out.h"
#include "base/string_util.h"
#include "crypto/encoding.h"
#include "operator/sidecar.h"
#include "operator/webhook_server.h"

namespace stash::op {
namespace {

const kube::Resource kMutatingWebhookConfigurations{"admissionregistration.k8s.io", "v1",
                                                    "mutatingwebhookconfigurations",
                                                    "MutatingWebhookConfiguration", false};
const kube::Resource kValidatingWebhookConfigurations{"admissionregistration.k8s.io", "v1",
                                                      "validatingwebhookconfigurations",
                                                      "ValidatingWebhookConfiguration", false};

void ClientConfig(JsonOut& j, const WebhookEndpoint& endpoint, const std::string& path, const std::string& ca_pem) {
  j.Key("clientConfig").Open().Field("caBundle", Base64Encode(AsBytes(ca_pem)));
  if (!endpoint.url.empty()) {
    std::string base = endpoint.url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    j.Field("url", base + path);
  } else {
    j.Key("service").Open().Field("namespace", endpoint.service.ns).Field("name", endpoint.service.name)
        .Field("path", path).FieldInt("port", endpoint.service.port).Close();
  }
  j.Close();
}

void Webhook(JsonOut& j, const kube::Resource& r, const WebhookEndpoint& endpoint, const std::string& ca_pem) {
  j.Open().Field("name", AsciiLower(r.kind) + ".admission.stash.appscode.com");
  ClientConfig(j, endpoint, kAdmissionPathPrefix + r.plural, ca_pem);
  j.Key("rules").OpenArray().Open();
  j.Key("apiGroups").OpenArray().Str(r.group).CloseArray();
  j.Key("apiVersions").OpenArray().Str(r.version).CloseArray();
  j.Key("operations").OpenArray().Str("CREATE").Str("UPDATE").CloseArray();
  j.Key("resources").OpenArray().Str(r.plural).CloseArray();
  j.Field("scope", "Namespaced").Close().CloseArray();
  j.Field("failurePolicy", "Ignore").Field("sideEffects", "None").FieldInt("timeoutSeconds", 10);
  j.Key("admissionReviewVersions").OpenArray().Str("v1").CloseArray();
  j.Close();
}

}  // namespace

std::string ValidatingWebhookConfigurationJson(const WebhookEndpoint& endpoint, const std::string& ca_pem) {
  JsonOut j;
  j.Open().Field("apiVersion", "admissionregistration.k8s.io/v1").Field("kind", "ValidatingWebhookConfiguration");
  j.Key("metadata").Open().Field("name", kWebhookConfigurationName);
  j.Key("labels").Open().Field("app", "stash").Close().Close();
  j.Key("webhooks").OpenArray();
  Webhook(j, kRestics, endpoint, ca_pem);
  j.CloseArray().Close();
  return j.Take();
}

std::string MutatingWebhookConfigurationJson(const WebhookEndpoint& endpoint, const std::string& ca_pem) {
  JsonOut j;
  j.Open().Field("apiVersion", "admissionregistration.k8s.io/v1").Field("kind", "MutatingWebhookConfiguration");
  j.Key("metadata").Open().Field("name", kWebhookConfigurationName);
  j.Key("labels").Open().Field("app", "stash").Close().Close();
  j.Key("webhooks").OpenArray();
  for (const auto& r : WorkloadResources()) Webhook(j, r, endpoint, ca_pem);
  j.CloseArray().Close();
  return j.Take();
}

Status RegisterWebhooks(kube::Client& client, const WebhookEndpoint& endpoint, const std::string& ca_pem) {
  auto applied = client.Apply(kMutatingWebhookConfigurations, "", kWebhookConfigurationName,
                              MutatingWebhookConfigurationJson(endpoint, ca_pem), "stash-operator");
  if (!applied.ok()) {
    return applied.error().Wrap("registering MutatingWebhookConfiguration " + std::string(kWebhookConfigurationName));
  }
  applied = client.Apply(kValidatingWebhookConfigurations, "", kWebhookConfigurationName,
                         ValidatingWebhookConfigurationJson(endpoint, ca_pem), "stash-operator");
  if (!applied.ok()) {
    return applied.error().Wrap("registering ValidatingWebhookConfiguration " + std::string(kWebhookConfigurationName));
  }
  return Status::Ok();
}

}  // namespace stash::op
