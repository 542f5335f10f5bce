#include "storage/backends/google_auth.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <ctime>

#include "crypto/encoding.h"

namespace stash::http {
namespace {

constexpr char kDefaultTokenUri[] = "https://oauth2.googleapis.com/token";
constexpr char kGrantType[] = "urn:ietf:params:oauth:grant-type:jwt-bearer";
constexpr int64_t kLifetime = 3600;  // the longest Google grants
constexpr int64_t kMaxLifetime = 86400;  // caps what an answer may claim
// A token this close to expiry is renewed: a request that starts with it
// may retry for minutes.
constexpr int64_t kRefreshMargin = 300;

std::string StringField(const rapidjson::Value& doc, const char* key) {
  auto it = doc.FindMember(key);
  if (it == doc.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

std::string ClaimsJson(const ServiceAccount& account, const std::string& scope, int64_t now) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("iss");
  w.String(account.client_email.c_str());
  w.Key("scope");
  w.String(scope.c_str());
  w.Key("aud");
  w.String(account.token_uri.c_str());
  w.Key("iat");
  w.Int64(now);
  w.Key("exp");
  w.Int64(now + kLifetime);
  w.EndObject();
  return buf.GetString();
}

// RSASSA-PKCS1-v1_5 with SHA-256 over `data`, with the PEM key.
Result<Bytes> SignRs256(const std::string& pem, std::string_view data) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (!key) return Invalid("gs: the service account's private_key is not a PEM private key");
  if (EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
    EVP_PKEY_free(key);
    return Invalid("gs: the service account's private_key is not an RSA key");
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  auto in = reinterpret_cast<const unsigned char*>(data.data());
  size_t len = 0;
  bool ok = ctx && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, in, data.size()) == 1;
  Bytes sig(len);
  ok = ok && EVP_DigestSign(ctx, sig.data(), &len, in, data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  if (!ok) return IOError("gs: signing the token request failed");
  sig.resize(len);
  return sig;
}

// "400 Bad Request: invalid_grant: Invalid JWT Signature." from an OAuth
// error answer, or the start of the body when it is something else.
std::string TokenErrorDetail(const HttpResponse& response) {
  rapidjson::Document doc;
  std::string_view body = AsString(response.body);
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return response.BodyText();
  std::string error = StringField(doc, "error");
  std::string description = StringField(doc, "error_description");
  if (error.empty()) return response.BodyText();
  return description.empty() ? error : error + ": " + description;
}

class StaticTokens : public TokenSource {
 public:
  explicit StaticTokens(std::string token) : token_(std::move(token)) {}
  Result<std::string> Token() override { return token_; }

 private:
  std::string token_;
};

}  // namespace

Result<ServiceAccount> ParseServiceAccount(std::string_view json, const std::string& what) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Invalid("gs: " + what + " is not a JSON service account key");
  }
  std::string type = StringField(doc, "type");
  if (!type.empty() && type != "service_account") {
    return Invalid("gs: " + what + " holds credentials of type \"" + type +
                   "\"; only service account keys are supported");
  }
  ServiceAccount account;
  account.client_email = StringField(doc, "client_email");
  account.private_key = StringField(doc, "private_key");
  account.token_uri = StringField(doc, "token_uri");
  account.project_id = StringField(doc, "project_id");
  if (account.client_email.empty() || account.private_key.empty()) {
    return Invalid("gs: " + what + " lacks client_email or private_key");
  }
  if (account.token_uri.empty()) account.token_uri = kDefaultTokenUri;
  return account;
}

std::string Base64Url(ByteView data) {
  std::string out = Base64Encode(data);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  return out;
}

Result<std::string> MakeJwtAssertion(const ServiceAccount& account, const std::string& scope,
                                     int64_t now) {
  std::string unsigned_part = Base64Url(AsBytes(R"({"alg":"RS256","typ":"JWT"})")) +
                              "." + Base64Url(AsBytes(ClaimsJson(account, scope, now)));
  STASH_ASSIGN_OR_RETURN(Bytes sig, SignRs256(account.private_key, unsigned_part));
  return unsigned_part + "." + Base64Url(sig);
}

Result<AccessToken> ParseTokenResponse(std::string_view body, int64_t now) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return AuthError("gs: token answer is not JSON");
  AccessToken token;
  token.value = StringField(doc, "access_token");
  if (token.value.empty()) return AuthError("gs: token answer without access_token");
  auto it = doc.FindMember("expires_in");
  int64_t lifetime = it != doc.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : kLifetime;
  // expires_in comes from the network: a huge value must not overflow.
  token.expires_at = now + std::clamp<int64_t>(lifetime, 0, kMaxLifetime);
  return token;
}

std::unique_ptr<TokenSource> StaticTokenSource(std::string token) {
  return std::make_unique<StaticTokens>(std::move(token));
}

Result<std::unique_ptr<ServiceAccountTokens>> ServiceAccountTokens::Create(ServiceAccount account,
                                                                           std::string scope,
                                                                           HttpOptions options) {
  auto url = ParseUrl(account.token_uri);
  if (!url.ok()) return url.error().Wrap("gs: bad token_uri in the service account key");
  std::string target = url->path + (url->query.empty() ? "" : "?" + url->query);
  STASH_ASSIGN_OR_RETURN(auto client, HttpClient::Create("gs", *url, std::move(options)));
  return std::unique_ptr<ServiceAccountTokens>(new ServiceAccountTokens(
      std::move(account), std::move(scope), std::move(target), std::move(client)));
}

ServiceAccountTokens::ServiceAccountTokens(ServiceAccount account, std::string scope,
                                           std::string target,
                                           std::unique_ptr<HttpClient> client)
    : account_(std::move(account)), scope_(std::move(scope)), target_(std::move(target)),
      client_(std::move(client)) {}

Result<std::string> ServiceAccountTokens::Token() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!cached_.value.empty() && std::time(nullptr) < cached_.expires_at - kRefreshMargin) {
    return cached_.value;
  }
  STASH_ASSIGN_OR_RETURN(cached_, Fetch());
  return cached_.value;
}

Result<AccessToken> ServiceAccountTokens::Fetch() {
  int64_t now = std::time(nullptr);
  STASH_ASSIGN_OR_RETURN(std::string assertion, MakeJwtAssertion(account_, scope_, now));
  std::string form = "grant_type=" + UriEncode(kGrantType, false) +
                     "&assertion=" + UriEncode(assertion, false);
  HttpRequest request;
  request.method = "POST";
  request.target = target_;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  request.body = AsBytes(form);
  request.what = "token for " + account_.client_email;
  STASH_ASSIGN_OR_RETURN(auto response, client_->Do(request));
  if (response.status != 200) {
    // The endpoint answers 400 for a refused grant: to the user that is a
    // credentials problem, not a broken link.
    Error error = StatusError("gs", request.what, response, TokenErrorDetail(response));
    return response.status >= 400 && response.status < 500 ? AuthError(error.message()) : error;
  }
  return ParseTokenResponse(AsString(response.body), now);
}

}  // namespace stash::http
