// The B2 and Swift backends without their servers: location parsing as
// restic 0.14 does it, settings errors, the answers of b2_authorize_account
// and Keystone v2/v3 (catalogs shaped like the examples in the Keystone API
// reference, docs.openstack.org/api-ref/identity), and request shapes,
// paging and re-authorization against the scripted server.
#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <map>

#include "crypto/id.h"
#include "storage/backends/b2_backend.h"
#include "storage/backends/backend_factory.h"
#include "storage/backends/swift_backend.h"
#include "test/unit/fake_http_server.h"

using namespace stash;
using stash::testing::FakeAction;
using stash::testing::FakeHttpServer;

namespace {

http::HttpOptions FastOptions() {
  http::HttpOptions o;
  o.retry.max_attempts = 2;
  o.retry.base_delay = std::chrono::milliseconds(1);
  o.retry.max_delay = std::chrono::milliseconds(2);
  return o;
}

BackendOptions Settings(std::map<std::string, std::string> values) {
  BackendOptions o;
  o.http = FastOptions();
  o.env = [values](const std::string& name) {
    auto it = values.find(name);
    return it == values.end() ? std::string() : it->second;
  };
  return o;
}

FakeAction Answer(int status, std::string body = "", std::string headers = "") {
  return {FakeAction::kAnswer, status, std::move(body), std::move(headers), false};
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("b2: locations as restic 0.14 parses them", "[b2]") {
  auto plain = ParseB2Location("b2:my-bucket");
  REQUIRE(plain.ok());
  CHECK(plain->bucket == "my-bucket");
  CHECK(plain->prefix == "");
  auto slashed = ParseB2Location("b2:my-bucket:/deployment//stash-demo/");
  REQUIRE(slashed.ok());
  CHECK(slashed->prefix == "deployment/stash-demo");
  CHECK(ParseB2Location("b2:my-bucket:repo")->prefix == "repo");
  CHECK(ParseB2Location("b2:my-bucket:/")->prefix == "");
  CHECK(ParseB2Location("b2:").error().message() == "b2: bucket name not found");
  CHECK(Has(ParseB2Location("b2:short").error().message(), "too short"));
  CHECK(Has(ParseB2Location("b2:bad_bucket").error().message(), "invalid characters"));
}

TEST_CASE("b2: settings", "[b2]") {
  auto missing = OpenBackend("b2:my-bucket:/repo", Settings({{"B2_ACCOUNT_KEY", "k"}}));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind() == ErrorKind::kInvalid);
  CHECK(Has(missing.error().message(), "$B2_ACCOUNT_ID"));
  auto no_key = OpenBackend("b2:my-bucket:/repo", Settings({{"B2_ACCOUNT_ID", "id"}}));
  REQUIRE_FALSE(no_key.ok());
  CHECK(Has(no_key.error().message(), "$B2_ACCOUNT_KEY"));
  B2Config config = *ParseB2Location("b2:my-bucket:repo");
  REQUIRE(B2ConfigFromSettings(config, Settings({{"B2_ACCOUNT_ID", "id"}, {"B2_ACCOUNT_KEY", "k"}})).ok());
  CHECK(config.api_base == "https://api.backblazeb2.com");
  REQUIRE(B2ConfigFromSettings(config, Settings({{"B2_ACCOUNT_ID", "id"}, {"B2_ACCOUNT_KEY", "k"},
                                                 {"B2_API_URL", "http://127.0.0.1:9/"}})).ok());
  CHECK(config.api_base == "http://127.0.0.1:9");
  auto opened = OpenBackend("b2:my-bucket:/repo", Settings({{"B2_ACCOUNT_ID", "id"}, {"B2_ACCOUNT_KEY", "k"}}));
  REQUIRE(opened.ok());
  CHECK((*opened)->Location() == "b2:my-bucket:repo");
}

TEST_CASE("b2: authorize_account answers and error bodies", "[b2]") {
  // The shape of the example answer on b2_authorize_account's page.
  auto auth = ParseB2Authorization(R"({
    "absoluteMinimumPartSize": 5000000,
    "accountId": "YOUR_ACCOUNT_ID",
    "allowed": {"bucketId": "BUCKET_ID", "bucketName": "BUCKET_NAME",
                "capabilities": ["listBuckets", "readFiles"], "namePrefix": null},
    "apiUrl": "https://apiNNN.backblazeb2.com/",
    "authorizationToken": "4_0022623512fc8f80000000001_0186e431_d18d02_acct_tH7VW03boebOXayIc43-sxptpfA=",
    "downloadUrl": "https://f002.backblazeb2.com",
    "recommendedPartSize": 100000000})");
  REQUIRE(auth.ok());
  CHECK(auth->account_id == "YOUR_ACCOUNT_ID");
  CHECK(auth->api_url == "https://apiNNN.backblazeb2.com");
  CHECK(auth->download_url == "https://f002.backblazeb2.com");
  CHECK(auth->allowed_bucket_id == "BUCKET_ID");
  CHECK(auth->allowed_bucket_name == "BUCKET_NAME");
  auto unrestricted = ParseB2Authorization(
      R"({"accountId":"a","authorizationToken":"t","apiUrl":"https://x","downloadUrl":"https://y",)"
      R"("allowed":{"bucketId":null,"bucketName":null}})");
  REQUIRE(unrestricted.ok());
  CHECK(unrestricted->allowed_bucket_id.empty());
  CHECK(ParseB2Authorization(R"({"accountId":"a"})").error().kind() == ErrorKind::kCorrupt);
  CHECK(B2ErrorDetail(R"({"status":401,"code":"expired_auth_token","message":"Authorization token has expired"})") ==
        "expired_auth_token: Authorization token has expired");
  CHECK(B2ErrorDetail("<html>busy</html>") == "<html>busy</html>");
}

TEST_CASE("b2: requests, paging and re-authorization against a scripted server", "[b2]") {
  FakeHttpServer server;
  std::string base = "http://127.0.0.1:" + std::to_string(server.port());
  B2Config config = *ParseB2Location("b2:stash-bucket:/repo");
  config.key_id = "id";
  config.key = "key";
  config.api_base = base;
  config.list_page = 2;
  auto backend = B2Backend::Open(config, FastOptions());
  REQUIRE(backend.ok());
  std::string auth = R"({"accountId":"acct","authorizationToken":"TOKEN1","apiUrl":")" + base +
                     R"(","downloadUrl":")" + base + R"("})";
  std::string a(64, 'a'), b(64, 'b'), c(64, 'c');
  auto file = [](const std::string& name, int size) {
    return R"({"fileName":"repo/snapshots/)" + name + R"(","fileId":"f)" + name.substr(0, 1) +
           R"(","contentLength":)" + std::to_string(size) + R"(,"action":"upload"})";
  };
  server.Script({
      Answer(200, auth),
      Answer(200, R"({"buckets":[{"bucketName":"stash-bucket","bucketId":"BID"}]})"),
      Answer(200, R"({"files":[)" + file(a, 1) + "," + file(b, 2) + R"(],"nextFileName":"repo/snapshots/)" + c + "\"}"),
      Answer(401, R"({"status":401,"code":"expired_auth_token","message":"expired"})"),
      Answer(200, auth),  // re-authorized
      Answer(200, R"({"files":[)" + file(c, 3) + R"(,{"fileName":"repo/snapshots/x","action":"hide"}],"nextFileName":null})"),
  });
  auto listed = (*backend)->List(FileType::kSnapshot);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 3);
  CHECK((*listed)[2].name == c);
  CHECK((*listed)[2].size == 3);
  auto seen = server.requests();
  REQUIRE(seen.size() == 6);
  CHECK(seen[0].target == "/b2api/v2/b2_authorize_account");
  CHECK(Has(seen[0].headers, "Authorization: Basic aWQ6a2V5"));  // "id:key"
  CHECK(seen[1].target == "/b2api/v2/b2_list_buckets");
  CHECK(Has(seen[1].headers, "Authorization: TOKEN1"));
  CHECK(seen[2].target == "/b2api/v2/b2_list_file_names");
  CHECK(seen[4].target == "/b2api/v2/b2_authorize_account");

  // Write: HEAD (absent), upload URL, upload with the SHA-1 and the name.
  std::string data = "abc";
  server.Script({Answer(404),
                 Answer(200, R"({"bucketId":"BID","uploadUrl":")" + base +
                                 R"(/b2api/v2/b2_upload_file/BID/x","authorizationToken":"UPTOKEN"})"),
                 Answer(200, "{}")});
  REQUIRE((*backend)->Write(FileType::kKey, a, AsBytes(data)).ok());
  seen = server.requests();
  auto head = seen[seen.size() - 3], upload = seen.back();
  CHECK(head.method == "HEAD");
  CHECK(head.target == "/file/stash-bucket/repo/keys/" + a);
  CHECK(upload.target == "/b2api/v2/b2_upload_file/BID/x");
  CHECK(Has(upload.headers, "X-Bz-Content-Sha1: a9993e364706816aba3e25717850c26c9cd0d89d"));
  CHECK(Has(upload.headers, "X-Bz-File-Name: repo/keys/" + a));
  CHECK(Has(upload.headers, "Authorization: UPTOKEN"));

  // A file that is there already is a conflict, not a second version.
  server.Script({Answer(200, "xyz")});  // HEAD: Content-Length 3
  auto again = (*backend)->Write(FileType::kKey, a, AsBytes(data));
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().kind() == ErrorKind::kConflict);
}

TEST_CASE("swift: locations and settings", "[swift]") {
  auto loc = ParseSwiftLocation("swift:container:/deployment//stash-demo/");
  REQUIRE(loc.ok());
  CHECK(loc->container == "container");
  CHECK(loc->prefix == "deployment/stash-demo");
  CHECK(ParseSwiftLocation("swift:container:/")->prefix == "");
  CHECK(Has(ParseSwiftLocation("swift:container").error().message(), "swift:container-name:/[prefix]"));
  CHECK(Has(ParseSwiftLocation("swift:container:").error().message(), "prefix is empty"));
  CHECK(Has(ParseSwiftLocation("swift:container:repo").error().message(), "does not start with slash"));

  auto none = OpenBackend("swift:c:/r", Settings({}));
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().kind() == ErrorKind::kInvalid);
  CHECK(Has(none.error().message(), "$ST_AUTH"));
  auto no_key = OpenBackend("swift:c:/r", Settings({{"ST_AUTH", "http://h/auth/v1.0"}, {"ST_USER", "u"}}));
  REQUIRE_FALSE(no_key.ok());
  CHECK(Has(no_key.error().message(), "$ST_KEY"));

  auto config = [](std::map<std::string, std::string> env) {
    SwiftConfig c = *ParseSwiftLocation("swift:c:/r");
    REQUIRE(SwiftConfigFromSettings(c, Settings(env)).ok());
    return c;
  };
  CHECK(config({{"ST_AUTH", "http://h/auth/v1.0"}, {"ST_USER", "u"}, {"ST_KEY", "k"}}).auth ==
        SwiftConfig::Auth::kV1);
  auto v2 = config({{"OS_AUTH_URL", "http://h:5000/v2.0"}, {"OS_USERNAME", "u"}, {"OS_PASSWORD", "p"},
                    {"OS_TENANT_NAME", "t"}, {"ST_USER", "ignored"}});
  CHECK(v2.auth == SwiftConfig::Auth::kV2);
  CHECK(v2.user == "u");  // OS_* wins over ST_*, as in restic
  CHECK(config({{"OS_AUTH_URL", "http://h:5000/v3"}, {"OS_USERNAME", "u"}, {"OS_PASSWORD", "p"}}).auth ==
        SwiftConfig::Auth::kV3);
  CHECK(config({{"OS_STORAGE_URL", "http://h/v1/AUTH_x/"}, {"OS_AUTH_TOKEN", "t"}}).storage_url ==
        "http://h/v1/AUTH_x");
}

TEST_CASE("swift: Keystone requests and catalogs", "[swift]") {
  SwiftConfig c;
  c.user = "demo";
  c.key = "secret";
  c.tenant_name = "demo-project";
  CHECK(KeystoneV2Request(c) ==
        R"({"auth":{"passwordCredentials":{"username":"demo","password":"secret"},"tenantName":"demo-project"}})");
  c.user_domain = "Default";
  CHECK(KeystoneV3Request(c) ==
        R"({"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"demo",)"
        R"("domain":{"name":"Default"},"password":"secret"}}},)"
        R"("scope":{"project":{"name":"demo-project","domain":{"name":"Default"}}}}})");

  // v2: as the Identity v2.0 reference's token example, two regions.
  std::string v2 = R"({"access": {
    "token": {"id": "ab48a9efdfedb23ty3494", "expires": "2014-01-01T00:00:00Z",
              "tenant": {"id": "1234", "name": "ACME corp"}},
    "serviceCatalog": [
      {"type": "compute", "name": "nova", "endpoints": [{"region": "RegionOne",
        "publicURL": "https://compute.north.host/v1/1234"}]},
      {"type": "object-store", "name": "swift", "endpoints": [
        {"region": "RegionOne", "publicURL": "https://swift.north.host/v1/AUTH_1234",
         "internalURL": "https://swift.internal/v1/AUTH_1234"},
        {"region": "RegionTwo", "publicURL": "https://swift.south.host/v1/AUTH_1234/"}]}],
    "user": {"id": "u1", "name": "demo"}}})";
  auto any = ParseKeystoneV2(v2, "");
  REQUIRE(any.ok());
  CHECK(any->token == "ab48a9efdfedb23ty3494");
  CHECK(any->storage_url == "https://swift.north.host/v1/AUTH_1234");
  CHECK(ParseKeystoneV2(v2, "RegionTwo")->storage_url == "https://swift.south.host/v1/AUTH_1234");
  auto nowhere = ParseKeystoneV2(v2, "RegionThree");
  REQUIRE_FALSE(nowhere.ok());
  CHECK(Has(nowhere.error().message(), "region \"RegionThree\""));

  // v3: as the "password authentication with scoped authorization" example.
  std::string v3 = R"({"token": {
    "methods": ["password"], "expires_at": "2015-11-06T15:32:17.893769Z",
    "catalog": [
      {"type": "identity", "name": "keystone", "endpoints": [{"interface": "public",
        "region": "RegionOne", "region_id": "RegionOne", "url": "http://example.com/identity"}]},
      {"type": "object-store", "name": "swift", "id": "x", "endpoints": [
        {"id": "1", "interface": "admin", "region": "RegionOne", "region_id": "RegionOne",
         "url": "http://admin.example.com/v1/AUTH_p"},
        {"id": "2", "interface": "internal", "region": "RegionOne", "region_id": "RegionOne",
         "url": "http://internal.example.com/v1/AUTH_p"},
        {"id": "3", "interface": "public", "region": "RegionOne", "region_id": "RegionOne",
         "url": "http://example.com/v1/AUTH_p"}]}],
    "project": {"domain": {"id": "default", "name": "Default"}, "id": "p", "name": "admin"}}})";
  auto scoped = ParseKeystoneV3(v3, "gAAAAABWHU", "RegionOne");
  REQUIRE(scoped.ok());
  CHECK(scoped->storage_url == "http://example.com/v1/AUTH_p");
  CHECK(scoped->token == "gAAAAABWHU");
  CHECK(ParseKeystoneV3(v3, "", "").error().kind() == ErrorKind::kCorrupt);
  CHECK_FALSE(ParseKeystoneV3(v3, "t", "RegionTwo").ok());

  auto listing = ParseSwiftListing(R"([{"subdir":"data/"},{"name":"r/keys/k","bytes":12,"hash":"h"}])");
  REQUIRE(listing.ok());
  REQUIRE(listing->size() == 1);
  CHECK((*listing)[0].name == "r/keys/k");
  CHECK((*listing)[0].size == 12);
}

TEST_CASE("swift: v1 auth, paging, re-auth on 401 and conditional PUT", "[swift]") {
  FakeHttpServer server;
  std::string base = "http://127.0.0.1:" + std::to_string(server.port());
  SwiftConfig config = *ParseSwiftLocation("swift:box:/repo");
  REQUIRE(SwiftConfigFromSettings(config, Settings({{"ST_AUTH", base + "/auth/v1.0"},
                                                    {"ST_USER", "u"}, {"ST_KEY", "k"}})).ok());
  config.list_limit = 2;
  auto backend = SwiftBackend::Open(config, FastOptions());
  REQUIRE(backend.ok());
  std::string login = "X-Storage-Url: " + base + "/v1/AUTH_u\r\nX-Auth-Token: T1\r\n";
  std::string a(64, 'a'), b(64, 'b'), c(64, 'c');
  auto entry = [](const std::string& id, int size) {
    return R"({"name":"repo/index/)" + id + R"(","bytes":)" + std::to_string(size) + "}";
  };
  server.Script({Answer(200, "", login),
                 Answer(200, "[" + entry(a, 1) + "," + entry(b, 2) + "]"),
                 Answer(401, "expired"),
                 Answer(200, "", "X-Storage-Url: " + base + "/v1/AUTH_u\r\nX-Auth-Token: T2\r\n"),
                 Answer(200, "[" + entry(c, 3) + "]")});
  auto listed = (*backend)->List(FileType::kIndex);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 3);
  auto seen = server.requests();
  REQUIRE(seen.size() == 5);
  CHECK(seen[0].target == "/auth/v1.0");
  CHECK(Has(seen[0].headers, "X-Auth-User: u"));
  CHECK(Has(seen[0].headers, "X-Auth-Key: k"));
  CHECK(seen[1].target == "/v1/AUTH_u/box?format=json&limit=2&prefix=repo%2Findex%2F");
  CHECK(Has(seen[1].headers, "X-Auth-Token: T1"));
  CHECK(seen[4].target == "/v1/AUTH_u/box?format=json&limit=2&prefix=repo%2Findex%2F&marker=repo%2Findex%2F" + b);
  CHECK(Has(seen[4].headers, "X-Auth-Token: T2"));

  server.Script({Answer(404), Answer(412, "exists")});
  auto raced = (*backend)->Write(FileType::kLock, a, AsBytes("abc"));
  REQUIRE_FALSE(raced.ok());
  CHECK(raced.error().kind() == ErrorKind::kConflict);
  auto put = server.requests()[6];
  CHECK(put.method == "PUT");
  CHECK(put.target == "/v1/AUTH_u/box/repo/locks/" + a);
  CHECK(Has(put.headers, "If-None-Match: *"));
  CHECK(Has(put.headers, "ETag: 900150983cd24fb0d6963f7d28e17f72"));  // MD5("abc")

  // A pack from its file: the same ETag, read from the file, and its bytes.
  int fd = ::memfd_create("pack", 0);
  REQUIRE(::write(fd, "abc", 3) == 3);
  server.Script({Answer(404), Answer(201)});
  REQUIRE((*backend)->WriteFromFile(FileType::kPack, c, fd, 3).ok());
  auto from_file = server.requests().back();
  CHECK(from_file.target == "/v1/AUTH_u/box/repo/data/cc/" + c);
  CHECK(Has(from_file.headers, "ETag: 900150983cd24fb0d6963f7d28e17f72"));
  CHECK(from_file.body == "abc");
  ::close(fd);

  server.Script({Answer(401, "no"), Answer(401, "bad key")});
  auto denied = (*backend)->Stat(FileType::kConfig, "config");
  REQUIRE_FALSE(denied.ok());
  CHECK(denied.error().kind() == ErrorKind::kAuth);
  CHECK(denied.error().message().rfind("swift: auth (v1): 401 ", 0) == 0);  // the fake's reason phrase
  CHECK(Has(denied.error().message(), ": bad key"));
}
