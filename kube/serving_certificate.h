// The serving certificate that every replica of a server behind a Service
// shares (an extension apiserver, an admission webhook): kept in a Secret,
// so the caBundle registered with kube-apiserver fits whichever replica
// answers.
#pragma once

#include <functional>
#include <string>

#include "base/result.h"
#include "kube/client.h"
#include "net/server/tls.h"

namespace stash::kube {

// "NAMESPACE/NAME:PORT" of a Service.
struct ServiceRef {
  std::string ns, name;
  int port = 443;
  std::string DnsName() const { return name + "." + ns + ".svc"; }
};
// kInvalid naming `text` unless it is NAMESPACE/NAME or NAMESPACE/NAME:PORT.
Result<ServiceRef> ParseServiceRef(const std::string& text);

struct ServingCertificate {
  server::CertificateAndKey ca;       // what a caBundle trusts
  server::CertificateAndKey serving;  // signed by ca
};

// The certificate kept in Secret `secret` ("NAMESPACE/NAME", type
// kubernetes.io/tls with ca.crt); when there is none, `make` makes one and
// it is stored, and if another replica stored one first, that one is used.
Result<ServingCertificate> SharedServingCertificate(Client& client, const std::string& secret,
                                                    const std::function<Result<ServingCertificate>()>& make);

}  // namespace stash::kube
