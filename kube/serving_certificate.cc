#include "kube/serving_certificate.h"

#include <charconv>

#include "base/json_out.h"
#include "crypto/encoding.h"

namespace stash::kube {
namespace {

std::pair<std::string, std::string> SplitNamespacedName(const std::string& text) {
  size_t slash = text.find('/');
  if (slash == std::string::npos) return {"", text};
  return {text.substr(0, slash), text.substr(slash + 1)};
}

std::string B64(const std::string& s) { return Base64Encode(AsBytes(s)); }

Result<ServingCertificate> FromSecret(const Json& secret, const std::string& what) {
  auto data = StringMap(At(secret, "/data"));
  ServingCertificate c;
  for (auto [key, out] : {std::pair<const char*, std::string*>{"ca.crt", &c.ca.cert_pem},
                          {"tls.crt", &c.serving.cert_pem},
                          {"tls.key", &c.serving.key_pem}}) {
    auto decoded = Base64Decode(data[key]);
    if (!decoded || decoded->empty()) return Invalid("Secret " + what + " has no valid " + key);
    out->assign(decoded->begin(), decoded->end());
  }
  return c;
}

std::string SecretJson(const std::string& ns, const std::string& name, const ServingCertificate& c) {
  JsonOut j;
  j.Open().Field("apiVersion", "v1").Field("kind", "Secret").Field("type", "kubernetes.io/tls");
  j.Key("metadata").Open().Field("name", name).Field("namespace", ns);
  j.Key("labels").Open().Field("app", "stash").Close().Close();
  j.Key("data").Open().Field("ca.crt", B64(c.ca.cert_pem)).Field("tls.crt", B64(c.serving.cert_pem))
      .Field("tls.key", B64(c.serving.key_pem)).Close();
  j.Close();
  return j.Take();
}

}  // namespace

Result<ServiceRef> ParseServiceRef(const std::string& text) {
  auto [ns, rest] = SplitNamespacedName(text);
  ServiceRef s;
  s.ns = ns;
  size_t colon = rest.rfind(':');
  s.name = colon == std::string::npos ? rest : rest.substr(0, colon);
  if (colon != std::string::npos) {
    std::string port = rest.substr(colon + 1);
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), s.port);
    if (ec != std::errc() || end != port.data() + port.size() || s.port < 1 || s.port > 65535) {
      return Invalid("service " + text + ": bad port");
    }
  }
  if (s.ns.empty() || s.name.empty()) return Invalid("service " + text + ": want NAMESPACE/NAME:PORT");
  return s;
}

Result<ServingCertificate> SharedServingCertificate(Client& client, const std::string& secret,
                                                    const std::function<Result<ServingCertificate>()>& make) {
  auto [ns, name] = SplitNamespacedName(secret);
  if (ns.empty() || name.empty()) return Invalid("Secret " + secret + ": want NAMESPACE/NAME");
  auto existing = client.Get(resources::kSecrets, ns, name);
  if (existing.ok()) return FromSecret(**existing, secret);
  if (existing.error().kind() != ErrorKind::kNotFound) return existing.error().Wrap("serving certificate");
  STASH_ASSIGN_OR_RETURN(ServingCertificate made, make());
  auto created = client.Create(resources::kSecrets, ns, SecretJson(ns, name, made));
  if (created.ok()) return made;
  if (Reason(created.error()) != "AlreadyExists") return created.error().Wrap("serving certificate");
  // Another replica was first: use its certificate, so one caBundle fits all.
  STASH_ASSIGN_OR_RETURN(ObjectPtr theirs, client.Get(resources::kSecrets, ns, name));
  return FromSecret(*theirs, secret);
}

}  // namespace stash::kube
