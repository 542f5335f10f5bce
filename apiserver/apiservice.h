// What the apiserver sets up through the Kubernetes API before it serves:
// the shared serving certificate (kube/serving_certificate.h) and the APIService that makes kube-apiserver's aggregator send
// `repositories.stash.appscode.com/v1alpha1` requests to it.
#pragma once

#include <functional>
#include <string>

#include "apiserver/machinery/server_types.h"
#include "base/result.h"
#include "kube/client.h"
#include "kube/serving_certificate.h"

namespace stash::apiserver {

using kube::ParseServiceRef;
using kube::ServiceRef;
using kube::ServingCertificate;
using kube::SharedServingCertificate;

// Creates or updates the APIService v1alpha1.repositories.stash.appscode.com
// (server-side apply) to point at `service` and trust `ca_pem`.
Status RegisterApiService(kube::Client& client, const ServiceRef& service, const std::string& ca_pem);

inline const char kApiServiceName[] = "v1alpha1.repositories.stash.appscode.com";

}  // namespace stash::apiserver
