#include "net/server/tls.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

namespace stash::server {
namespace {

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

Error OpenSslError(const std::string& what) {
  unsigned long code = ERR_get_error();
  char buf[256] = "unknown error";
  if (code) ERR_error_string_n(code, buf, sizeof buf);
  ERR_clear_error();
  return Invalid(what + ": " + buf);
}

std::vector<CertPtr> ReadCertificates(const std::string& pem) {
  std::vector<CertPtr> out;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(c);
  ERR_clear_error();  // the read that ended the loop
  return out;
}

KeyPtr ReadKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return KeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return BioText(bio.get());
}

std::string KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return BioText(bio.get());
}

Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
  if (!ext) return OpenSslError("certificate extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return Status::Ok();
}

Status SetSerial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return OpenSslError("random serial");
  bytes[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(bytes, sizeof bytes, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
  BN_free(bn);
  return Status::Ok();
}

std::string SubjectAltNames(const CertificateRequest& r) {
  std::string out;
  for (const auto& d : r.dns_names) out += (out.empty() ? "DNS:" : ",DNS:") + d;
  for (const auto& ip : r.ip_addresses) out += (out.empty() ? "IP:" : ",IP:") + ip;
  return out;
}

// A certificate for `request` with a new key, signed by `issuer` (or by
// itself when issuer is null).
Result<CertificateAndKey> Make(const CertificateRequest& request, bool is_ca, X509* issuer,
                               EVP_PKEY* issuer_key) {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError("generating a key");
  CertPtr cert(X509_new());
  X509_set_version(cert.get(), 2);
  STASH_RETURN_IF_ERROR(SetSerial(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(request.days) * 86400);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& o : request.organizations) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(o.c_str()), -1, -1, 0);
  }
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(request.common_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  STASH_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_basic_constraints,
                                     is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE"));
  STASH_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_key_usage,
                                     is_ca ? "critical,keyCertSign,cRLSign,digitalSignature"
                                           : "critical,digitalSignature,keyEncipherment"));
  std::string eku = std::string(request.server ? "serverAuth" : "") +
                    (request.server && request.client ? "," : "") + (request.client ? "clientAuth" : "");
  if (!eku.empty()) STASH_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_ext_key_usage, eku));
  std::string san = SubjectAltNames(request);
  if (!san.empty()) STASH_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_alt_name, san));
  STASH_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  if (issuer) STASH_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  if (X509_sign(cert.get(), issuer_key ? issuer_key : key.get(), EVP_sha256()) == 0) {
    return OpenSslError("signing a certificate");
  }
  return CertificateAndKey{CertPem(cert.get()), KeyPem(key.get())};
}

std::string NameEntry(X509_NAME* name, int index) {
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, data);
  if (n < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

// The handshake takes any client certificate without checking its chain:
// ReadClientCertificate checks it against each trust root apart, and the
// authenticator turns a bad one into a 401. (A chain check here as well
// would verify every connection's signature once more.)
int TakeCertificateUnchecked(X509_STORE_CTX*, void*) { return 1; }

Status UseServingCertificate(SSL_CTX* ctx, const CertificateAndKey& serving) {
  auto chain = ReadCertificates(serving.cert_pem);
  if (chain.empty()) return Invalid("the serving certificate holds no PEM certificate");
  if (SSL_CTX_use_certificate(ctx, chain[0].get()) != 1) return OpenSslError("serving certificate");
  for (size_t i = 1; i < chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, chain[i].get()) != 1) return OpenSslError("certificate chain");
  }
  KeyPtr key = ReadKey(serving.key_pem);
  if (!key) return OpenSslError("serving key");
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return OpenSslError("the serving key does not match its certificate");
  }
  return Status::Ok();
}

using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>>;

// The two trust roots apart, kept with the SSL_CTX (ex_data) so that
// ReadClientCertificate can tell which CA a peer chain leads to.
struct ClientTrust {
  StorePtr client{X509_STORE_new()};
  StorePtr front_proxy{X509_STORE_new()};
};

void FreeClientTrust(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<ClientTrust*>(ptr);
}

int TrustIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, FreeClientTrust);
  return index;
}

// Adds the certificates of `pems` to `store` and to the handshake's store
// and CA name list.
Status AddCas(SSL_CTX* ctx, X509_STORE* store, STACK_OF(X509_NAME)* names,
              const std::vector<std::string>& pems) {
  for (const auto& pem : pems) {
    auto certs = ReadCertificates(pem);
    if (certs.empty()) return Invalid("a client CA bundle holds no PEM certificate");
    for (const auto& c : certs) {
      X509_STORE_add_cert(store, c.get());
      X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), c.get());
      sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(c.get())));
    }
  }
  return Status::Ok();
}

Status TrustClientCas(SSL_CTX* ctx, const TlsConfig& config) {
  auto* trust = new ClientTrust;
  SSL_CTX_set_ex_data(ctx, TrustIndex(), trust);  // the context frees it
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  Status s = AddCas(ctx, trust->client.get(), names, config.client_ca_pems);
  if (s.ok()) s = AddCas(ctx, trust->front_proxy.get(), names, config.requestheader_ca_pems);
  if (!s.ok()) {
    sk_X509_NAME_pop_free(names, X509_NAME_free);
    return s;
  }
  // Clients pick the certificate to send by these names (Go does).
  SSL_CTX_set_client_CA_list(ctx, names);
  SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, TakeCertificateUnchecked, nullptr);
  return Status::Ok();
}

// Verifies `leaf` (with the chain the peer sent) against `store` for client
// auth; "" when it verifies, else why not.
std::string VerifyAgainst(X509_STORE* store, X509* leaf, STACK_OF(X509)* untrusted) {
  using CtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;
  CtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store, leaf, untrusted) != 1) return "cannot verify";
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  if (X509_verify_cert(ctx.get()) == 1) return "";
  ERR_clear_error();
  return X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
}

}  // namespace

Result<CertificateAndKey> GenerateCa(const std::string& common_name, int days) {
  CertificateRequest r;
  r.common_name = common_name;
  r.days = days;
  return Make(r, true, nullptr, nullptr);
}

Result<CertificateAndKey> IssueCertificate(const CertificateAndKey& ca, const CertificateRequest& request) {
  auto certs = ReadCertificates(ca.cert_pem);
  KeyPtr key = ReadKey(ca.key_pem);
  if (certs.empty() || !key) return OpenSslError("reading the CA");
  return Make(request, false, certs[0].get(), key.get());
}

namespace {

// TLS 1.2 and up, as its clients use it.
Status SetProtocol(SSL_CTX* ctx) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
  // No session resumption: kubectl, client-go and the aggregator's proxy
  // keep no session cache, so tickets would be made for nobody, and making
  // one (OpenSSL 3.0 copies the session through DER, the client
  // certificate with it) costs a tenth of a short request's handshake.
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  // Go's order, as kube-apiserver serves: AES-128-GCM first (with AES-NI
  // the fastest, for us and for the client decrypting a large list).
  if (SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                                    "TLS_CHACHA20_POLY1305_SHA256") != 1 ||
      SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                   "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                   "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305") != 1) {
    return OpenSslError("TLS cipher suites");
  }
  return Status::Ok();
}

}  // namespace

Result<ssl_ctx_st*> MakeServerContext(const TlsConfig& config) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return OpenSslError("TLS context");
  Status s = SetProtocol(ctx);
  if (s.ok()) s = UseServingCertificate(ctx, config.serving);
  if (s.ok() && (!config.client_ca_pems.empty() || !config.requestheader_ca_pems.empty())) {
    s = TrustClientCas(ctx, config);
  }
  if (!s.ok()) {
    SSL_CTX_free(ctx);
    return s.error();
  }
  return ctx;
}

ClientCertificate ReadClientCertificate(ssl_st* ssl) {
  ClientCertificate out;
  CertPtr peer(SSL_get1_peer_certificate(ssl));
  if (!peer) return out;
  out.present = true;
  auto* trust = static_cast<ClientTrust*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), TrustIndex()));
  if (trust) {
    STACK_OF(X509)* untrusted = SSL_get_peer_cert_chain(ssl);  // without the leaf on a server
    out.verify_error = VerifyAgainst(trust->client.get(), peer.get(), untrusted);
    out.verified = out.verify_error.empty();
    out.front_proxy_verified = VerifyAgainst(trust->front_proxy.get(), peer.get(), untrusted).empty();
  } else {
    out.verify_error = "no client certificates are trusted";
  }
  X509_NAME* subject = X509_get_subject_name(peer.get());
  for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_organizationName, i)) >= 0;) {
    out.organizations.push_back(NameEntry(subject, i));
  }
  int cn = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (cn >= 0) out.common_name = NameEntry(subject, cn);
  return out;
}

std::string CommonNameOf(const std::string& pem) {
  auto certs = ReadCertificates(pem);
  if (certs.empty()) return "";
  X509_NAME* subject = X509_get_subject_name(certs[0].get());
  int cn = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  return cn >= 0 ? NameEntry(subject, cn) : "";
}

}  // namespace stash::server
