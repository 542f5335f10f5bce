#include "apiserver/apiservice.h"

#include "base/json_out.h"
#include "crypto/encoding.h"

namespace stash::apiserver {
namespace {

std::string B64(const std::string& s) { return Base64Encode(AsBytes(s)); }

}  // namespace

Status RegisterApiService(kube::Client& client, const ServiceRef& service, const std::string& ca_pem) {
  JsonOut j;
  j.Open().Field("apiVersion", "apiregistration.k8s.io/v1").Field("kind", "APIService");
  j.Key("metadata").Open().Field("name", kApiServiceName);
  j.Key("labels").Open().Field("app", "stash").Close().Close();
  j.Key("spec").Open().Field("group", "repositories.stash.appscode.com").Field("version", "v1alpha1")
      .FieldInt("groupPriorityMinimum", 1000).FieldInt("versionPriority", 15)
      .Field("caBundle", B64(ca_pem));
  j.Key("service").Open().Field("namespace", service.ns).Field("name", service.name)
      .FieldInt("port", service.port).Close();
  j.Close().Close();
  auto applied = client.Apply(kube::resources::kAPIServices, "", kApiServiceName, j.Take(), "stash-apiserver");
  if (!applied.ok()) return applied.error().Wrap("registering APIService " + std::string(kApiServiceName));
  return Status::Ok();
}

}  // namespace stash::apiserver
