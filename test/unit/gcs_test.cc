// The GCS backend and Google's service-account token flow: location and
// settings parsing, the signed JWT (verified with the public half of a key
// made here), the token exchange and its cache against a scripted local
// server, and the JSON API requests and error mapping of GcsBackend.
#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <rapidjson/document.h>

#include <unistd.h>

#include <cstdio>
#include <map>
#include <thread>

#include "crypto/encoding.h"
#include "storage/backends/gcs_backend.h"
#include "storage/backends/google_auth.h"
#include "test/unit/fake_http_server.h"

using namespace stash;
using namespace stash::http;
using stash::testing::FakeAction;
using stash::testing::FakeHttpServer;

namespace {

HttpOptions FastOptions() {
  HttpOptions o;
  o.retry.max_attempts = 3;
  o.retry.base_delay = std::chrono::milliseconds(1);
  o.retry.max_delay = std::chrono::milliseconds(5);
  o.idle_timeout = std::chrono::milliseconds(2000);
  o.connect_timeout = std::chrono::milliseconds(2000);
  return o;
}

// A fresh 2048-bit RSA key: its PEM private key and the key itself (for
// verifying), freed with the struct.
struct TestKey {
  EVP_PKEY* key = nullptr;
  std::string pem;
  TestKey() {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nullptr);
    REQUIRE(EVP_PKEY_keygen_init(ctx) == 1);
    REQUIRE(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) == 1);
    REQUIRE(EVP_PKEY_keygen(ctx, &key) == 1);
    EVP_PKEY_CTX_free(ctx);
    BIO* bio = BIO_new(BIO_s_mem());
    REQUIRE(PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    pem.assign(data, static_cast<size_t>(len));
    BIO_free(bio);
  }
  ~TestKey() { EVP_PKEY_free(key); }
};

TestKey& SharedKey() {
  static TestKey key;  // key generation is slow enough to do once
  return key;
}

std::optional<std::string> Base64UrlDecode(std::string text) {
  for (char& c : text) {
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
  }
  while (text.size() % 4 != 0) text += '=';
  auto bytes = Base64Decode(text);
  if (!bytes) return std::nullopt;
  return std::string(AsString(*bytes));
}

bool VerifyRs256(EVP_PKEY* key, std::string_view data, std::string_view sig) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

// Checks a JWT's signature and returns its claims (an empty document when
// anything is off).
rapidjson::Document VerifiedClaims(const std::string& jwt) {
  rapidjson::Document claims;
  size_t dot1 = jwt.find('.'), dot2 = jwt.rfind('.');
  REQUIRE(dot1 != std::string::npos);
  REQUIRE(dot2 != dot1);
  auto header = Base64UrlDecode(jwt.substr(0, dot1));
  auto body = Base64UrlDecode(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
  auto sig = Base64UrlDecode(jwt.substr(dot2 + 1));
  REQUIRE(header);
  REQUIRE(body);
  REQUIRE(sig);
  CHECK(*header == R"({"alg":"RS256","typ":"JWT"})");
  CHECK(VerifyRs256(SharedKey().key, jwt.substr(0, dot2), *sig));
  std::string tampered = jwt.substr(0, dot2) + "x";
  CHECK_FALSE(VerifyRs256(SharedKey().key, tampered, *sig));
  claims.Parse(body->c_str());
  REQUIRE(claims.IsObject());
  return claims;
}

ServiceAccount TestAccount(const std::string& token_uri) {
  return {"backup@proj.iam.gserviceaccount.com", SharedKey().pem, token_uri, "proj"};
}

// The value of `key` in an application/x-www-form-urlencoded body.
std::string FormValue(const std::string& body, const std::string& key) {
  size_t pos = 0;
  while (pos <= body.size()) {
    size_t amp = body.find('&', pos);
    std::string pair = body.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    if (pair.rfind(key + "=", 0) == 0) return PercentDecode(pair.substr(key.size() + 1)).value();
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return "";
}

FakeAction Answer(int status, std::string body) {
  return FakeAction{FakeAction::kAnswer, status, std::move(body), "", false};
}

BackendOptions Settings(std::map<std::string, std::string> values) {
  BackendOptions options;
  options.env = [values](const std::string& name) {
    auto it = values.find(name);
    return it == values.end() ? std::string() : it->second;
  };
  return options;
}

const std::string kId1(64, 'a');
const std::string kId2(64, 'b');

}  // namespace

// ---- locations and settings ----

TEST_CASE("gs: locations parse as restic 0.14 parses them", "[gcs]") {
  auto c = ParseGcsLocation("gs:my-bucket:/stash/deployment/app");
  REQUIRE(c.ok());
  CHECK(c->bucket == "my-bucket");
  CHECK(c->prefix == "stash/deployment/app");
  c = ParseGcsLocation("gs:b://x//y/");
  REQUIRE(c.ok());
  CHECK(c->prefix == "x/y");
  c = ParseGcsLocation("gs:b:/");
  REQUIRE(c.ok());
  CHECK(c->prefix.empty());
  CHECK(GcsObjectName(*c, FileType::kConfig, "config") == "config");
  c = ParseGcsLocation("gs:b:/p");
  CHECK(GcsObjectName(*c, FileType::kPack, kId1) == "p/data/aa/" + kId1);
  CHECK(GcsObjectName(*c, FileType::kKey, kId1) == "p/keys/" + kId1);
  CHECK(ParseGcsLocation("gs:bucket").error().kind() == ErrorKind::kInvalid);
  CHECK(ParseGcsLocation("gs::/prefix").error().kind() == ErrorKind::kInvalid);
}

TEST_CASE("gs: settings pick credentials and the emulator", "[gcs]") {
  GcsConfig c;
  REQUIRE(GcsConfigFromSettings(c, Settings({{"GOOGLE_ACCESS_TOKEN", "ya29.x"},
                                             {"GOOGLE_SERVICE_ACCOUNT_JSON_KEY", "{}"},
                                             {"GOOGLE_PROJECT_ID", "proj"}})).ok());
  CHECK(c.access_token == "ya29.x");
  CHECK(c.project_id == "proj");
  CHECK(c.endpoint == "https://storage.googleapis.com");

  c = {};
  REQUIRE(GcsConfigFromSettings(c, Settings({{"GOOGLE_SERVICE_ACCOUNT_JSON_KEY", "{\"a\":1}"},
                                             {"STORAGE_EMULATOR_HOST", "127.0.0.1:4443"}})).ok());
  CHECK(c.key_json == "{\"a\":1}");
  CHECK(c.emulator);
  CHECK(c.endpoint == "http://127.0.0.1:4443");

  std::string path = "/tmp/stash-gcs-test-key-" + std::to_string(::getpid()) + ".json";
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs("{\"from\":\"file\"}", f);
  std::fclose(f);
  c = {};
  REQUIRE(GcsConfigFromSettings(c, Settings({{"GOOGLE_APPLICATION_CREDENTIALS", path}})).ok());
  CHECK(c.key_json == "{\"from\":\"file\"}");
  CHECK(c.key_source.find(path) != std::string::npos);
  std::remove(path.c_str());
  c = {};
  auto missing = GcsConfigFromSettings(c, Settings({{"GOOGLE_APPLICATION_CREDENTIALS", path}}));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message().find(path) != std::string::npos);

  c = {};
  REQUIRE(GcsConfigFromSettings(c, Settings({{"STORAGE_EMULATOR_HOST", "https://gcs.test:8443"}})).ok());
  CHECK(c.endpoint == "https://gcs.test:8443");
  CHECK(c.access_token.empty());
  CHECK(c.key_json.empty());

  c = {};
  auto none = GcsConfigFromSettings(c, Settings({}));
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().kind() == ErrorKind::kInvalid);
  CHECK(none.error().message().find("GOOGLE_APPLICATION_CREDENTIALS") != std::string::npos);
}

TEST_CASE("gs: service account keys", "[gcs]") {
  auto a = ParseServiceAccount(R"({"type":"service_account","project_id":"p",
      "private_key":"-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n",
      "client_email":"x@p.iam.gserviceaccount.com"})", "the key");
  REQUIRE(a.ok());
  CHECK(a->token_uri == "https://oauth2.googleapis.com/token");
  CHECK(a->private_key.find("\nMII\n") != std::string::npos);
  CHECK(a->project_id == "p");
  auto user = ParseServiceAccount(R"({"type":"authorized_user","client_id":"c"})", "the key");
  REQUIRE_FALSE(user.ok());
  CHECK(user.error().message().find("authorized_user") != std::string::npos);
  CHECK_FALSE(ParseServiceAccount(R"({"type":"service_account"})", "k").ok());
  CHECK_FALSE(ParseServiceAccount("not json", "k").ok());
  CHECK(Base64Url(AsBytes("\xfb\xff")) == "-_8");
}

// ---- the JWT and the token exchange ----

TEST_CASE("gs: the JWT assertion is signed with the account's key", "[gcs]") {
  auto account = TestAccount("https://oauth2.example.test/token");
  auto jwt = MakeJwtAssertion(account, kGcsReadWriteScope, 1700000000);
  REQUIRE(jwt.ok());
  auto claims = VerifiedClaims(*jwt);
  CHECK(std::string(claims["iss"].GetString()) == account.client_email);
  CHECK(std::string(claims["scope"].GetString()) ==
        "https://www.googleapis.com/auth/devstorage.read_write");
  CHECK(std::string(claims["aud"].GetString()) == "https://oauth2.example.test/token");
  CHECK(claims["iat"].GetInt64() == 1700000000);
  CHECK(claims["exp"].GetInt64() == 1700000000 + 3600);

  account.private_key = "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n";
  auto bad = MakeJwtAssertion(account, kGcsReadWriteScope, 1);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message().find("private_key") != std::string::npos);
}

TEST_CASE("gs: tokens are fetched with a JWT grant and cached", "[gcs]") {
  FakeHttpServer server;
  std::string uri = "http://127.0.0.1:" + std::to_string(server.port()) + "/token";
  server.Script({Answer(200, R"({"access_token":"tok-1","expires_in":3599,"token_type":"Bearer"})")});
  auto tokens = ServiceAccountTokens::Create(TestAccount(uri), kGcsReadWriteScope, FastOptions());
  REQUIRE(tokens.ok());
  std::vector<std::thread> threads;
  std::vector<std::string> got(8);
  for (size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&, i] { got[i] = (*tokens)->Token().value(); });
  }
  for (auto& t : threads) t.join();
  for (const auto& token : got) CHECK(token == "tok-1");

  auto seen = server.requests();
  REQUIRE(seen.size() == 1);  // one exchange for all threads
  CHECK(seen[0].method == "POST");
  CHECK(seen[0].target == "/token");
  CHECK(seen[0].headers.find("Content-Type: application/x-www-form-urlencoded") != std::string::npos);
  CHECK(FormValue(seen[0].body, "grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer");
  auto claims = VerifiedClaims(FormValue(seen[0].body, "assertion"));
  CHECK(std::string(claims["aud"].GetString()) == uri);
  CHECK(std::string(claims["iss"].GetString()) == "backup@proj.iam.gserviceaccount.com");
}

TEST_CASE("gs: a token about to expire is renewed", "[gcs]") {
  FakeHttpServer server;
  std::string uri = "http://127.0.0.1:" + std::to_string(server.port()) + "/token";
  server.Script({Answer(200, R"({"access_token":"short","expires_in":60})"),
                 Answer(200, R"({"access_token":"long","expires_in":3600})")});
  auto tokens = ServiceAccountTokens::Create(TestAccount(uri), kGcsReadWriteScope, FastOptions());
  REQUIRE(tokens.ok());
  CHECK((*tokens)->Token().value() == "short");
  CHECK((*tokens)->Token().value() == "long");
  CHECK((*tokens)->Token().value() == "long");
  CHECK(server.requests().size() == 2);
}

TEST_CASE("gs: a refused grant is an auth error with Google's reason", "[gcs]") {
  FakeHttpServer server;
  std::string uri = "http://127.0.0.1:" + std::to_string(server.port()) + "/token";
  server.Script({Answer(400, R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})")});
  auto tokens = ServiceAccountTokens::Create(TestAccount(uri), kGcsReadWriteScope, FastOptions());
  REQUIRE(tokens.ok());
  auto token = (*tokens)->Token();
  REQUIRE_FALSE(token.ok());
  CHECK(token.error().kind() == ErrorKind::kAuth);
  CHECK(token.error().message().find("invalid_grant: Invalid JWT Signature.") != std::string::npos);
}

// ---- the backend's requests ----

namespace {

std::unique_ptr<Backend> BackendFor(const FakeHttpServer& server, const std::string& token,
                                    const std::string& project = "proj") {
  GcsConfig config = ParseGcsLocation("gs:bkt:/pre").value();
  config.endpoint = "http://127.0.0.1:" + std::to_string(server.port());
  config.project_id = project;
  auto backend = GcsBackend::Open(config, FastOptions(), StaticTokenSource(token));
  REQUIRE(backend.ok());
  return std::move(backend).value();
}

}  // namespace

TEST_CASE("gs: uploads are conditional, named and authorized", "[gcs]") {
  FakeHttpServer server;
  auto backend = BackendFor(server, "tok");
  CHECK(backend->Location() == "gs:bkt:/pre");
  // MD5 of "hello" is XUFAKrxLKna5cZ2REBfFkg==.
  // The 412 is followed by a look at the stored object (metadata, bytes).
  server.Script({Answer(200, R"({"name":"pre/keys/x","size":"5","md5Hash":"XUFAKrxLKna5cZ2REBfFkg=="})"),
                 Answer(412, R"({"error":{"code":412,"message":"Precondition Failed"}})"),
                 Answer(200, R"({"name":"pre/keys/x","size":"5"})"), Answer(200, "hello"),
                 Answer(200, R"({"name":"pre/keys/x","size":"4"})")});
  REQUIRE(backend->Write(FileType::kKey, kId1, AsBytes("hello")).ok());
  auto conflict = backend->Write(FileType::kKey, kId1, AsBytes("world"));
  REQUIRE_FALSE(conflict.ok());
  CHECK(conflict.error().kind() == ErrorKind::kConflict);
  auto short_write = backend->Write(FileType::kKey, kId2, AsBytes("hello"));
  REQUIRE_FALSE(short_write.ok());
  CHECK(short_write.error().message().find("stored 4 bytes of 5") != std::string::npos);

  auto seen = server.requests();
  REQUIRE(seen.size() == 5);
  CHECK(seen[0].method == "POST");
  CHECK(seen[0].target == "/upload/storage/v1/b/bkt/o?uploadType=media&name=pre%2Fkeys%2F" + kId1 +
                              "&ifGenerationMatch=0");
  CHECK(seen[0].body == "hello");
  CHECK(seen[0].headers.find("Authorization: Bearer tok\r\n") != std::string::npos);

  // A pack from its file: its bytes go, and the stored object's MD5 is
  // checked against the file's.
  int fd = ::memfd_create("pack", 0);
  REQUIRE(::write(fd, "hello", 5) == 5);
  server.Script({Answer(200, R"({"name":"p","size":"5","md5Hash":"XUFAKrxLKna5cZ2REBfFkg=="})"),
                 Answer(200, R"({"name":"p","size":"5","md5Hash":"AAAAKrxLKna5cZ2REBfFkg=="})")});
  REQUIRE(backend->WriteFromFile(FileType::kPack, kId1, fd, 5).ok());
  CHECK(server.requests().back().body == "hello");
  auto differs = backend->WriteFromFile(FileType::kPack, kId2, fd, 5);
  REQUIRE_FALSE(differs.ok());
  CHECK(differs.error().message().find("MD5 differs") != std::string::npos);
  ::close(fd);
}

TEST_CASE("gs: a retried upload that had landed counts as written", "[gcs]") {
  FakeHttpServer server;
  auto backend = BackendFor(server, "tok");
  server.Script({Answer(503, "busy"), Answer(412, "{}"),
                 Answer(200, R"({"size":"5","md5Hash":"XUFAKrxLKna5cZ2REBfFkg=="})"),
                 Answer(200, "hello")});
  CHECK(backend->Write(FileType::kIndex, kId1, AsBytes("hello")).ok());
  server.Script({Answer(503, "busy"), Answer(412, "{}"),
                 Answer(200, R"({"size":"5","md5Hash":"AAAAKrxLKna5cZ2REBfFkg=="})"),
                 Answer(200, "jello")});
  auto other = backend->Write(FileType::kIndex, kId1, AsBytes("hello"));
  REQUIRE_FALSE(other.ok());
  CHECK(other.error().kind() == ErrorKind::kConflict);
}

TEST_CASE("gs: reads ask for a range; short or missing data is corrupt", "[gcs]") {
  FakeHttpServer server;
  auto backend = BackendFor(server, "");
  server.Script({Answer(206, "bcd"), Answer(206, "b"), Answer(416, ""), Answer(404, "{}"),
                 Answer(200, "whole")});
  CHECK(AsString(backend->Read(FileType::kPack, kId1, 1, 3).value()) == "bcd");
  auto truncated = backend->Read(FileType::kPack, kId1, 1, 3);
  REQUIRE_FALSE(truncated.ok());
  CHECK(truncated.error().kind() == ErrorKind::kCorrupt);
  auto past = backend->Read(FileType::kPack, kId1, 100, 0);
  REQUIRE_FALSE(past.ok());
  CHECK(past.error().kind() == ErrorKind::kCorrupt);
  CHECK(AsString(backend->Read(FileType::kPack, kId1).value()) == "whole");

  auto seen = server.requests();
  REQUIRE(seen.size() == 5);
  CHECK(seen[0].target == "/storage/v1/b/bkt/o/pre%2Fdata%2Faa%2F" + kId1 + "?alt=media");
  CHECK(seen[0].headers.find("Range: bytes=1-3\r\n") != std::string::npos);
  CHECK(seen[2].headers.find("Range: bytes=100-\r\n") != std::string::npos);
  CHECK(seen[4].headers.find("Range:") == std::string::npos);
  CHECK(seen[0].headers.find("Authorization") == std::string::npos);  // emulator: no token
}

TEST_CASE("gs: listings follow page tokens and keep restic names", "[gcs]") {
  FakeHttpServer server;
  auto backend = BackendFor(server, "tok");
  server.Script({Answer(200, R"({"items":[{"name":"pre/snapshots/)" + kId1 + R"(","size":"10"},
                                          {"name":"pre/snapshots/tmp-upload","size":"1"}],
                                 "nextPageToken":"page 2"})"),
                 Answer(200, R"({"items":[{"name":"pre/snapshots/)" + kId2 + R"(","size":"20"}]})"),
                 Answer(200, R"({"kind":"storage#objects"})")});
  auto list = backend->List(FileType::kSnapshot);
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].name == kId1);
  CHECK((*list)[0].size == 10);
  CHECK((*list)[1].name == kId2);
  CHECK((*list)[1].size == 20);
  auto empty = backend->List(FileType::kLock);
  REQUIRE(empty.ok());
  CHECK(empty->empty());

  auto seen = server.requests();
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].target == "/storage/v1/b/bkt/o?prefix=pre%2Fsnapshots%2F");
  CHECK(seen[1].target == "/storage/v1/b/bkt/o?prefix=pre%2Fsnapshots%2F&pageToken=page%202");
  CHECK(seen[2].target == "/storage/v1/b/bkt/o?prefix=pre%2Flocks%2F");
}

TEST_CASE("gs: errors name the backend, the object and Google's message", "[gcs]") {
  FakeHttpServer server;
  auto backend = BackendFor(server, "tok");
  server.Script({Answer(403, R"({"error":{"code":403,"message":"backup@p does not have storage.objects.get access"}})"),
                 Answer(404, R"({"error":{"code":404,"message":"No such object: bkt/pre/locks/x"}})"),
                 Answer(200, R"({"size":"77"})"), Answer(204, "")});
  auto denied = backend->Stat(FileType::kConfig, "config");
  REQUIRE_FALSE(denied.ok());
  CHECK(denied.error().kind() == ErrorKind::kAuth);
  CHECK(denied.error().message() ==
        "gs: config: 403 Forbidden: backup@p does not have storage.objects.get access");
  auto gone = backend->Remove(FileType::kLock, kId1);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().kind() == ErrorKind::kNotFound);
  CHECK(gone.error().message().find("gs: locks/" + kId1 + ": 404") == 0);
  auto info = backend->Stat(FileType::kSnapshot, kId2);
  REQUIRE(info.ok());
  CHECK(info->name == kId2);
  CHECK(info->size == 77);
  CHECK(backend->Remove(FileType::kLock, kId1).ok());
  auto seen = server.requests();
  CHECK(seen[1].method == "DELETE");
  CHECK(seen[1].target == "/storage/v1/b/bkt/o/pre%2Flocks%2F" + kId1);
}

TEST_CASE("gs: init creates a missing bucket in the project", "[gcs]") {
  FakeHttpServer server;
  auto backend = BackendFor(server, "tok");
  server.Script({Answer(404, "{}"), Answer(404, "{}"), Answer(200, R"({"name":"bkt"})")});
  REQUIRE(backend->Create().ok());
  auto seen = server.requests();
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].target == "/storage/v1/b/bkt/o/pre%2Fconfig");
  CHECK(seen[1].target == "/storage/v1/b/bkt");
  CHECK(seen[2].method == "POST");
  CHECK(seen[2].target == "/storage/v1/b?project=proj");
  CHECK(seen[2].body == R"({"name":"bkt"})");

  server.Script({Answer(200, R"({"size":"155"})")});
  auto exists = backend->Create();
  REQUIRE_FALSE(exists.ok());
  CHECK(exists.error().kind() == ErrorKind::kConflict);

  auto no_project = BackendFor(server, "tok", "");
  server.Script({Answer(404, "{}"), Answer(404, "{}")});
  auto refused = no_project->Create();
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message().find("GOOGLE_PROJECT_ID") != std::string::npos);
}
