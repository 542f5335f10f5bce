#include "apiserver/kube_review.h"

#include <rapidjson/document.h>

#include "apiserver/json_out.h"
#include "apiserver/tls.h"
#include "storage/http/http_client.h"

namespace stash::apiserver {
namespace {

constexpr auto kTokenReread = std::chrono::seconds(60);

using JsonValue = rapidjson::Value;

std::string StringOf(const JsonValue& obj, const char* key) {
  if (!obj.IsObject()) return "";
  auto it = obj.FindMember(key);
  return it != obj.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

bool BoolOf(const JsonValue& obj, const char* key) {
  if (!obj.IsObject()) return false;
  auto it = obj.FindMember(key);
  return it != obj.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

const JsonValue& Member(const JsonValue& obj, const char* key) {
  static const JsonValue null;
  if (!obj.IsObject()) return null;
  auto it = obj.FindMember(key);
  return it != obj.MemberEnd() ? it->value : null;
}

std::vector<std::string> Strings(const JsonValue& array) {
  std::vector<std::string> out;
  if (!array.IsArray()) return out;
  for (const auto& v : array.GetArray()) {
    if (v.IsString()) out.emplace_back(v.GetString());
  }
  return out;
}

Result<rapidjson::Document> ParseReview(const std::string& json, const char* kind) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return Invalid(std::string(kind) + " answer is not JSON");
  if (StringOf(d, "kind") != kind) return Invalid(std::string("answer is not a ") + kind);
  return d;
}

void WriteUser(JsonOut& j, const UserInfo& user) {
  j.Field("user", user.name);
  if (!user.uid.empty()) j.Field("uid", user.uid);
  j.FieldStrings("groups", user.groups);
  if (user.extra.empty()) return;
  j.Key("extra").Open();
  for (const auto& [key, values] : user.extra) j.FieldStrings(key, values);
  j.Close();
}

// A field of resourceAttributes, left out when empty as Go's omitempty does.
void Optional(JsonOut& j, const char* key, const std::string& value) {
  if (!value.empty()) j.Field(key, value);
}

}  // namespace

std::string TokenReviewJson(const std::string& token) {
  JsonOut j;
  j.Open().Field("apiVersion", "authentication.k8s.io/v1").Field("kind", "TokenReview");
  j.Key("spec").Open().Field("token", token).Close();
  j.Close();
  return j.Take();
}

Result<TokenReviewResult> ParseTokenReview(const std::string& json) {
  STASH_ASSIGN_OR_RETURN(rapidjson::Document d, ParseReview(json, "TokenReview"));
  const JsonValue& status = Member(d, "status");
  TokenReviewResult r;
  r.authenticated = BoolOf(status, "authenticated");
  r.error = StringOf(status, "error");
  const JsonValue& user = Member(status, "user");
  r.user.name = StringOf(user, "username");
  r.user.uid = StringOf(user, "uid");
  r.user.groups = Strings(Member(user, "groups"));
  const JsonValue& extra = Member(user, "extra");
  if (extra.IsObject()) {
    for (const auto& m : extra.GetObject()) r.user.extra[m.name.GetString()] = Strings(m.value);
  }
  return r;
}

std::string SubjectAccessReviewJson(const Attributes& a) {
  JsonOut j;
  j.Open().Field("apiVersion", "authorization.k8s.io/v1").Field("kind", "SubjectAccessReview");
  j.Key("spec").Open();
  if (a.resource_request) {
    j.Key("resourceAttributes").Open();
    Optional(j, "namespace", a.ns);
    Optional(j, "verb", a.verb);
    Optional(j, "group", a.group);
    Optional(j, "version", a.version);
    Optional(j, "resource", a.resource);
    Optional(j, "subresource", a.subresource);
    Optional(j, "name", a.name);
    j.Close();
  } else {
    j.Key("nonResourceAttributes").Open().Field("path", a.path).Field("verb", a.verb).Close();
  }
  WriteUser(j, a.user);
  j.Close().Close();
  return j.Take();
}

Result<Decision> ParseSubjectAccessReview(const std::string& json) {
  STASH_ASSIGN_OR_RETURN(rapidjson::Document d, ParseReview(json, "SubjectAccessReview"));
  const JsonValue& status = Member(d, "status");
  Decision decision{BoolOf(status, "allowed"), StringOf(status, "reason")};
  std::string evaluation = StringOf(status, "evaluationError");
  if (!decision.allowed && decision.reason.empty()) decision.reason = evaluation;
  return decision;
}

Result<std::unique_ptr<KubeClient>> KubeClient::Create(ClusterAccess access, std::string name,
                                                       std::chrono::milliseconds timeout) {
  STASH_ASSIGN_OR_RETURN(http::Url url, http::ParseUrl(access.server));
  http::HttpOptions o;
  o.ca_pem = access.ca_pem;
  o.client_cert_pem = access.client_cert_pem;
  o.client_key_pem = access.client_key_pem;
  o.connect_timeout = timeout;
  o.idle_timeout = timeout;
  // Reviews sit in the request path: one quick retry, not a long backoff.
  o.retry.max_attempts = 2;
  o.retry.base_delay = std::chrono::milliseconds(100);
  auto client = http::HttpClient::Create(name, url, std::move(o));
  if (!client.ok()) return client.error();
  std::string base = url.path;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return std::unique_ptr<KubeClient>(new KubeClient(std::move(access), base, std::move(*client)));
}

KubeClient::KubeClient(ClusterAccess access, std::string base_path, std::unique_ptr<http::HttpClient> client)
    : access_(std::move(access)), base_path_(std::move(base_path)), client_(std::move(client)) {}

KubeClient::~KubeClient() = default;

Result<std::string> KubeClient::Token() {
  if (access_.token_file.empty()) return access_.token;
  std::lock_guard<std::mutex> lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (token_.empty() || now - token_read_ > kTokenReread) {
    auto text = ReadTextFile(access_.token_file);
    if (!text.ok()) return text.error();
    std::string t = *text;
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
    token_ = std::move(t);
    token_read_ = now;
  }
  return token_;
}

Result<std::string> KubeClient::PostJson(const std::string& path, const std::string& json) {
  return Send("POST", path, json);
}

Result<std::string> KubeClient::GetJson(const std::string& path) { return Send("GET", path, ""); }

Result<std::string> KubeClient::Send(const std::string& method, const std::string& path,
                                     const std::string& json) {
  STASH_ASSIGN_OR_RETURN(std::string token, Token());
  http::HttpRequest r;
  r.method = method;
  r.target = base_path_ + path;
  r.what = path;
  r.headers = {{"Accept", "application/json"}};
  if (!json.empty()) r.headers.emplace_back("Content-Type", "application/json");
  if (!token.empty()) r.headers.emplace_back("Authorization", "Bearer " + token);
  r.body = AsBytes(json);
  STASH_ASSIGN_OR_RETURN(http::HttpResponse response, client_->Do(r));
  std::string body(response.body.begin(), response.body.end());
  if (response.status >= 200 && response.status < 300) return body;
  // Kubernetes answers errors with a Status; its message says the most.
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  std::string message = !d.HasParseError() ? StringOf(d, "message") : "";
  return http::StatusError(client_->name(), path, response, message.empty() ? response.BodyText() : message);
}

Result<AuthenticationConfig> ParseAuthenticationConfigMap(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || StringOf(d, "kind") != "ConfigMap") return Invalid("answer is not a ConfigMap");
  const JsonValue& data = Member(d, "data");
  AuthenticationConfig c;
  c.client_ca_pem = StringOf(data, "client-ca-file");
  c.requestheader_ca_pem = StringOf(data, "requestheader-client-ca-file");
  // The list values are JSON arrays inside strings.
  auto list = [&data](const char* key, std::vector<std::string>& out) {
    std::string text = StringOf(data, key);
    if (text.empty()) return;
    rapidjson::Document a;
    a.Parse(text.data(), text.size());
    if (!a.HasParseError()) out = Strings(a);
  };
  list("requestheader-allowed-names", c.requestheader.allowed_names);
  list("requestheader-username-headers", c.requestheader.username_headers);
  list("requestheader-group-headers", c.requestheader.group_headers);
  list("requestheader-extra-headers-prefix", c.requestheader.extra_prefixes);
  return c;
}

Result<AuthenticationConfig> FetchAuthenticationConfig(KubeClient& client) {
  auto body = client.GetJson("/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication");
  if (!body.ok()) return body.error().Wrap("kube-system/extension-apiserver-authentication");
  return ParseAuthenticationConfigMap(*body);
}

Result<TokenReviewResult> WebhookTokenReviewer::Review(const std::string& token) {
  STASH_ASSIGN_OR_RETURN(std::string body,
                         client_->PostJson("/apis/authentication.k8s.io/v1/tokenreviews", TokenReviewJson(token)));
  return ParseTokenReview(body);
}

Result<Decision> WebhookSubjectAccessReviewer::Review(const Attributes& attributes) {
  STASH_ASSIGN_OR_RETURN(std::string body,
                         client_->PostJson("/apis/authorization.k8s.io/v1/subjectaccessreviews",
                                           SubjectAccessReviewJson(attributes)));
  return ParseSubjectAccessReview(body);
}

}  // namespace stash::apiserver
