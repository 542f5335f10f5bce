// Certificates and fakes shared by the delegated-auth tests: real CAs and
// certificates made with the server's own OpenSSL code, a manual clock for
// the caches, and scripted answers for FakeHttpServer.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "apiserver/auth/delegated_auth.h"
#include "apiserver/machinery/server_types.h"
#include "test/unit/fake_http_server.h"

namespace stash::apiserver::auth_test {

inline CertificateAndKey Issue(const CertificateAndKey& ca, const std::string& cn,
                               std::vector<std::string> orgs = {}, bool server = false) {
  CertificateRequest r;
  r.common_name = cn;
  r.organizations = std::move(orgs);
  r.server = server;
  r.client = !server;
  if (server) r.ip_addresses = {"127.0.0.1"};
  auto c = IssueCertificate(ca, r);
  REQUIRE(c.ok());
  return *c;
}

// The CAs and certificates of one test: made once, they are slow-ish.
struct Pki {
  CertificateAndKey serving_ca = *GenerateCa("serving-ca", 1);
  CertificateAndKey front_proxy_ca = *GenerateCa("front-proxy-ca", 1);
  CertificateAndKey client_ca = *GenerateCa("client-ca", 1);
  CertificateAndKey serving = Issue(serving_ca, "server", {}, true);
  CertificateAndKey front_proxy = Issue(front_proxy_ca, "front-proxy-client");
  CertificateAndKey rogue_proxy = Issue(front_proxy_ca, "rogue-proxy");
  CertificateAndKey bob = Issue(client_ca, "bob", {"dev", "ops"});
  CertificateAndKey stranger = Issue(*GenerateCa("other-ca", 1), "mallory");
};

inline const Pki& TestPki() {
  static const Pki pki;
  return pki;
}

// A manual clock for the caches.
struct FakeClock {
  std::shared_ptr<std::chrono::steady_clock::time_point> now =
      std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  SteadyClock fn() const {
    return [n = now] { return *n; };
  }
  void Advance(std::chrono::milliseconds d) { *now += d; }
};

using Groups = std::vector<std::string>;

inline testing::FakeAction Reply(int status, std::string body) {
  testing::FakeAction a;
  a.status = status;
  a.body = std::move(body);
  return a;
}

}  // namespace stash::apiserver::auth_test
