#include "apiserver/auth/kube_review.h"

#include <rapidjson/document.h>

#include "base/json_out.h"

namespace stash::apiserver {
namespace {

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

Result<AuthenticationConfig> FetchAuthenticationConfig(kube::Client& client) {
  auto body = client.Request("GET", "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication");
  if (!body.ok()) return body.error().Wrap("kube-system/extension-apiserver-authentication");
  return ParseAuthenticationConfigMap(*body);
}

Result<TokenReviewResult> WebhookTokenReviewer::Review(const std::string& token) {
  STASH_ASSIGN_OR_RETURN(std::string body,
                         client_->Request("POST", "/apis/authentication.k8s.io/v1/tokenreviews", TokenReviewJson(token)));
  return ParseTokenReview(body);
}

Result<Decision> WebhookSubjectAccessReviewer::Review(const Attributes& attributes) {
  STASH_ASSIGN_OR_RETURN(std::string body,
                         client_->Request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                                           SubjectAccessReviewJson(attributes)));
  return ParseSubjectAccessReview(body);
}

}  // namespace stash::apiserver
