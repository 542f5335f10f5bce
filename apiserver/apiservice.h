// What a server in a cluster sets up through the Kubernetes API before it
// serves: the serving certificate that all replicas share, kept in a
// Secret, and the APIService that makes kube-apiserver's aggregator send
// `repositories.stash.appscode.com/v1alpha1` requests to it.
#pragma once

#include <functional>
#include <string>

#include "apiserver/machinery/server_types.h"
#include "base/result.h"
#include "kube/client.h"

namespace stash::apiserver {

// "NAMESPACE/NAME:PORT" of a Service.
struct ServiceRef {
  std::string ns, name;
  int port = 443;
  std::string DnsName() const { return name + "." + ns + ".svc"; }
};
Result<ServiceRef> ParseServiceRef(const std::string& text);

struct ServingCertificate {
  CertificateAndKey ca;       // what the APIService's caBundle trusts
  CertificateAndKey serving;  // signed by ca
};

// The certificate kept in Secret `secret` ("NAMESPACE/NAME", type
// kubernetes.io/tls with ca.crt); when there is none, `make` makes one and
// it is stored, and if another replica stored one first, that one is used.
Result<ServingCertificate> SharedServingCertificate(kube::Client& client, const std::string& secret,
                                                    const std::function<Result<ServingCertificate>()>& make);

// Creates or updates the APIService v1alpha1.repositories.stash.appscode.com
// (server-side apply) to point at `service` and trust `ca_pem`.
Status RegisterApiService(kube::Client& client, const ServiceRef& service, const std::string& ca_pem);

inline const char kApiServiceName[] = "v1alpha1.repositories.stash.appscode.com";

}  // namespace stash::apiserver
