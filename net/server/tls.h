// TLS for the API server: certificates made at start (a CA, the serving
// certificate, an admin client certificate) and the OpenSSL context.
//
// Client certificates are requested, never required: the handshake accepts
// any certificate, then the peer chain is verified against the client CAs
// and, separately, against the front-proxy CAs (with the client auth
// purpose), and the authenticators decide. So anonymous clients still reach
// the health endpoints, a bad certificate gets a 401 Status, and a client
// CA certificate never counts as a front-proxy one (or the reverse).
#pragma once

#include <string>
#include <vector>

#include "net/server/http.h"
#include "base/result.h"
#include "base/text_file.h"

struct ssl_ctx_st;
struct ssl_st;

namespace stash::server {

struct CertificateAndKey {
  std::string cert_pem;  // the certificate, then any intermediates
  std::string key_pem;   // PKCS#8, unencrypted
};

struct CertificateRequest {
  std::string common_name;
  std::vector<std::string> organizations;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  bool server = false;  // extended key usage serverAuth
  bool client = false;  // extended key usage clientAuth
  int days = 365;
};

// A self-signed CA (ECDSA P-256, SHA-256), valid for `days`.
Result<CertificateAndKey> GenerateCa(const std::string& common_name, int days);
// A certificate signed by `ca`.
Result<CertificateAndKey> IssueCertificate(const CertificateAndKey& ca, const CertificateRequest& request);

struct TlsConfig {
  CertificateAndKey serving;
  std::vector<std::string> client_ca_pems;  // each may hold several certificates
  // CAs of front-proxy client certificates (--requestheader-client-ca-file).
  std::vector<std::string> requestheader_ca_pems;
};

// An SSL_CTX for serving (TLS 1.2+, HTTP/1.1 only). The caller owns it.
Result<ssl_ctx_st*> MakeServerContext(const TlsConfig& config);

// What the handshake learned about the client's certificate.
ClientCertificate ReadClientCertificate(ssl_st* ssl);

// The subject common name of the first certificate in `pem` (for tests and
// messages); empty if it cannot be read.
std::string CommonNameOf(const std::string& pem);

}  // namespace stash::server
