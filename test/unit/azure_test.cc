// The Azure backend without Azure: Shared Key signing against the examples
// of Microsoft's "Authorize with Shared Key" page, location and settings
// parsing, List Blobs XML, and the backend against the scripted server
// (paging, conflicts, block uploads, truncated reads, error messages).
#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <map>

#include "crypto/encoding.h"
#include "storage/backends/azure_backend.h"
#include "storage/backends/backend_factory.h"
#include "storage/backends/azure_sharedkey.h"
#include "test/unit/fake_http_server.h"

using namespace stash;
using namespace stash::http;
using stash::testing::FakeAction;
using stash::testing::FakeHttpServer;

namespace {

// Azurite's well-known development account.
constexpr char kAccount[] = "devstoreaccount1";
constexpr char kKey[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

Bytes DevKey() { return *Base64Decode(kKey); }

HttpOptions FastOptions(int attempts = 3) {
  HttpOptions o;
  o.retry.max_attempts = attempts;
  o.retry.base_delay = std::chrono::milliseconds(1);
  o.retry.max_delay = std::chrono::milliseconds(5);
  o.idle_timeout = std::chrono::milliseconds(2000);
  o.connect_timeout = std::chrono::milliseconds(2000);
  return o;
}

FakeAction Answer(int status, std::string body = "", std::string headers = "") {
  return {FakeAction::kAnswer, status, std::move(body), std::move(headers), false};
}

AzureConfig FakeConfig(const FakeHttpServer& server) {
  AzureConfig config;
  config.container = "ctr";
  config.prefix = "pre";
  config.account = kAccount;
  config.key = DevKey();
  config.endpoint = "http://127.0.0.1:" + std::to_string(server.port()) + "/" + kAccount;
  return config;
}

std::unique_ptr<Backend> Open(AzureConfig config) {
  auto backend = AzureBackend::Open(std::move(config), FastOptions());
  REQUIRE(backend.ok());
  return std::move(backend).value();
}

// The value of header `name` in a raw header block, or "".
std::string HeaderIn(const std::string& block, const std::string& name) {
  size_t at = block.find(name + ": ");
  if (at == std::string::npos) return "";
  size_t start = at + name.size() + 2;
  return block.substr(start, block.find("\r\n", start) - start);
}

std::string ListXml(const std::vector<std::pair<std::string, int>>& blobs,
                     const std::string& next) {
  std::string xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults "
                    "ServiceEndpoint=\"http://127.0.0.1/devstoreaccount1\" ContainerName=\"ctr\">"
                    "<Prefix>pre/data/</Prefix><Blobs>";
  for (const auto& [name, size] : blobs) {
    xml += "<Blob><Name>" + name + "</Name><Properties><Content-Length>" + std::to_string(size) +
           "</Content-Length><BlobType>BlockBlob</BlobType></Properties></Blob>";
  }
  xml += "</Blobs>" + (next.empty() ? "<NextMarker />" : "<NextMarker>" + next + "</NextMarker>");
  return xml + "</EnumerationResults>";
}

}  // namespace

// learn.microsoft.com/en-us/rest/api/storageservices/authorize-with-shared-key,
// "Constructing the signature string": a GET with only x-ms-date and
// x-ms-version, whose every standard header slot is empty.
TEST_CASE("azure sharedkey: the documentation's string to sign", "[azure]") {
  SharedKeyRequest r{"GET", "/myblob",
                     {{"restype", "container"}, {"comp", "metadata"}, {"timeout", "20"}},
                     {{"x-ms-date", "Sun, 11 Oct 2009 21:49:13 GMT"}, {"x-ms-version", "2009-09-19"}},
                     0};
  std::string expected = "GET\n" + std::string(11, '\n') +
                         "x-ms-date:Sun, 11 Oct 2009 21:49:13 GMT\nx-ms-version:2009-09-19\n"
                         "/myaccount/myblob\ncomp:metadata\nrestype:container\ntimeout:20";
  CHECK(SharedKeyStringToSign("myaccount", r) == expected);
  // HMAC-SHA256 under Azurite's key, computed independently with Python's hmac.
  CHECK(SharedKeySignature(DevKey(), expected) == "wRidUKYb1TvT1xNbDyvW1Ytxuu5RuQrfCsZQaga36L4=");
  CHECK(HttpDate(1255297753) == "Sun, 11 Oct 2009 21:49:13 GMT");
}

// The same page, "Shared Key format for 2009-09-19 and later": its
// canonicalized resource examples.
TEST_CASE("azure sharedkey: the documentation's canonicalized resources", "[azure]") {
  CHECK(SharedKeyCanonicalResource("myaccount", "/mycontainer",
                                   {{"restype", "container"}, {"comp", "metadata"}}) ==
        "/myaccount/mycontainer\ncomp:metadata\nrestype:container");
  CHECK(SharedKeyCanonicalResource("myaccount", "/mycontainer",
                                   {{"restype", "container"}, {"comp", "list"},
                                    {"include", "snapshots"}, {"include", "metadata"},
                                    {"include", "uncommittedblobs"}}) ==
        "/myaccount/mycontainer\ncomp:list\ninclude:metadata,snapshots,uncommittedblobs\n"
        "restype:container");
  // The secondary endpoint signs with the primary account name.
  CHECK(SharedKeyCanonicalResource("myaccount", "/mycontainer/myblob", {}) ==
        "/myaccount/mycontainer/myblob");
  CHECK(SharedKeyCanonicalResource("myaccount", "", {{"Comp", "list"}}) == "/myaccount/\ncomp:list");
}

TEST_CASE("azure sharedkey: canonicalized headers", "[azure]") {
  // Lower-cased, sorted, whitespace unfolded, other headers left out.
  CHECK(SharedKeyCanonicalHeaders({{"X-MS-Version", "2019-12-12"},
                                   {"Content-Type", "text/plain"},
                                   {"x-ms-meta-b", "  two   words "},
                                   {"x-ms-date", "Fri, 26 Jun 2015 23:39:12 GMT"},
                                   {"x-ms-meta-a", "1"}}) ==
        "x-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\nx-ms-meta-a:1\nx-ms-meta-b:two words\n"
        "x-ms-version:2019-12-12\n");
}

TEST_CASE("azure sharedkey: a Put Blob with its standard headers", "[azure]") {
  SharedKeyRequest r{"PUT", "/devstoreaccount1/mycontainer/data/ab/blob", {},
                     {{"Content-Type", "application/octet-stream"}, {"If-None-Match", "*"},
                      {"x-ms-blob-type", "BlockBlob"}, {"x-ms-version", "2019-12-12"},
                      {"x-ms-date", "Fri, 26 Jun 2015 23:39:12 GMT"}},
                     11};
  std::string expected =
      "PUT\n\n\n11\n\napplication/octet-stream\n\n\n\n*\n\n\n"
      "x-ms-blob-type:BlockBlob\nx-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\nx-ms-version:2019-12-12\n"
      "/devstoreaccount1/devstoreaccount1/mycontainer/data/ab/blob";
  CHECK(SharedKeyStringToSign(kAccount, r) == expected);
  CHECK(SharedKeyAuthorization(kAccount, DevKey(), r) ==
        "SharedKey devstoreaccount1:/0O8oNEpNAm0Vr7JElYYaWCsnWsWcN5DaCYwc4LWt6Q=");
  r.content_length = 0;  // zero is signed as an empty line (2015-02-21 and later)
  CHECK(SharedKeyStringToSign(kAccount, r).starts_with("PUT\n\n\n\n\napplication/octet-stream\n"));
}

TEST_CASE("azure: locations as restic 0.14 parses them", "[azure]") {
  auto a = ParseAzureLocation("azure:ctr:/some/prefix/");
  REQUIRE(a.ok());
  CHECK(a->container == "ctr");
  CHECK(a->prefix == "some/prefix");
  auto root = ParseAzureLocation("azure:ctr:/");
  REQUIRE(root.ok());
  CHECK(root->prefix.empty());
  CHECK(ParseAzureLocation("azure:ctr:a//b/../c")->prefix == "a/c");
  CHECK_FALSE(ParseAzureLocation("azure:ctr").ok());
  CHECK_FALSE(ParseAzureLocation("azure::/x").ok());
  CHECK_FALSE(ParseAzureLocation("s3:ctr:/x").ok());
  // Azure's container naming rule, checked before any request.
  CHECK(ParseAzureLocation("azure:$root:/").ok());
  CHECK(ParseAzureLocation("azure:a-b-9:/").ok());
  for (const char* bad : {"azure:c1:/", "azure:Upper:/", "azure:a--b:/", "azure:-ab:/", "azure:ab-:/"}) {
    auto refused = ParseAzureLocation(bad);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message().find("invalid container name") != std::string::npos);
  }
}

TEST_CASE("azure: settings and their errors", "[azure]") {
  std::map<std::string, std::string> env;
  BackendOptions settings;
  settings.env = [&](const std::string& name) { return env.count(name) ? env[name] : ""; };
  AzureConfig c;
  auto no_name = AzureConfigFromSettings(c, settings);
  REQUIRE_FALSE(no_name.ok());
  CHECK(no_name.error().kind() == ErrorKind::kInvalid);
  CHECK(no_name.error().message().find("AZURE_ACCOUNT_NAME") != std::string::npos);
  env["AZURE_ACCOUNT_NAME"] = "acct";
  auto no_key = AzureConfigFromSettings(c, settings);
  REQUIRE_FALSE(no_key.ok());
  CHECK(no_key.error().kind() == ErrorKind::kInvalid);
  CHECK(no_key.error().message().find("AZURE_ACCOUNT_KEY") != std::string::npos);
  env["AZURE_ACCOUNT_KEY"] = "not base64!";
  CHECK(AzureConfigFromSettings(c, settings).error().message().find("base64") != std::string::npos);
  env["AZURE_ACCOUNT_KEY"] = kKey;
  REQUIRE(AzureConfigFromSettings(c, settings).ok());
  CHECK(c.key == DevKey());
  CHECK(c.endpoint == "https://acct.blob.core.windows.net");
  env = {{"AZURE_ACCOUNT_NAME", "acct"}, {"AZURE_ACCOUNT_SAS", "?sv=2019&sig=x%2By"},
         {"AZURE_ENDPOINT", "http://127.0.0.1:10000/acct"}};
  AzureConfig s;
  REQUIRE(AzureConfigFromSettings(s, settings).ok());
  CHECK(s.sas == "sv=2019&sig=x%2By");
  CHECK(s.key.empty());
  CHECK(s.endpoint == "http://127.0.0.1:10000/acct");

  // Through the factory: the scheme is known and the variable is named.
  env.clear();
  auto opened = OpenBackend("azure:ctr:/p", settings);
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.error().message().find("AZURE_ACCOUNT_NAME") != std::string::npos);
}

TEST_CASE("azure: List Blobs pages", "[azure]") {
  auto page = ParseAzureListPage(ListXml({{"pre/data/ab/x", 5}, {"pre/data/cd/y", 7}}, "m2"));
  REQUIRE(page.ok());
  REQUIRE(page->blobs.size() == 2);
  CHECK(page->blobs[1].key == "pre/data/cd/y");
  CHECK(page->blobs[1].size == 7);
  CHECK(page->next_marker == "m2");
  CHECK(ParseAzureListPage(ListXml({}, ""))->next_marker.empty());
  CHECK_FALSE(ParseAzureListPage("<EnumerationResults><Blobs><Blob><Name>x</Name></Blob></Blobs>"
                                 "</EnumerationResults>").ok());
  CHECK_FALSE(ParseAzureListPage("<html>proxy error</html>").ok());
}

TEST_CASE("azure: listing follows NextMarker and keeps restic's names", "[azure]") {
  FakeHttpServer server;
  auto backend = Open(FakeConfig(server));
  std::string a(64, 'a'), b(64, 'b');
  server.Script({Answer(200, ListXml({{"pre/data/aa/" + a, 5}, {"pre/data/aa/junk", 1}}, "m/2+")),
                 Answer(200, ListXml({{"pre/data/bb/" + b, 7}, {"pre/data/cc/" + b, 7},
                                       {"pre/data/" + b, 7}}, ""))});
  auto listed = backend->List(FileType::kPack);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);
  CHECK((*listed)[0].name == a);
  CHECK((*listed)[1].name == b);
  CHECK((*listed)[1].size == 7);
  auto seen = server.requests();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].target == "/devstoreaccount1/ctr?comp=list&prefix=pre%2Fdata%2F&restype=container");
  CHECK(seen[1].target ==
        "/devstoreaccount1/ctr?comp=list&marker=m%2F2%2B&prefix=pre%2Fdata%2F&restype=container");

  // The signature covers what was sent: recompute it from the request.
  std::string date = HeaderIn(seen[1].headers, "x-ms-date");
  SharedKeyRequest expect{"GET", "/devstoreaccount1/ctr",
                          {{"restype", "container"}, {"comp", "list"}, {"prefix", "pre/data/"},
                           {"marker", "m/2+"}},
                          {{"x-ms-version", "2019-12-12"}, {"x-ms-date", date}}, 0};
  CHECK(HeaderIn(seen[1].headers, "Authorization") ==
        SharedKeyAuthorization(kAccount, DevKey(), expect));
}

TEST_CASE("azure: writes, conflicts and blocks", "[azure]") {
  FakeHttpServer server;
  auto config = FakeConfig(server);
  config.max_single_put = 10;
  config.block_size = 4;
  auto backend = Open(config);
  std::string id(64, 'c');

  server.Script({Answer(201)});
  REQUIRE(backend->Write(FileType::kKey, id, AsBytes("small")).ok());
  auto put = server.requests().back();
  CHECK(put.method == "PUT");
  CHECK(put.target == "/devstoreaccount1/ctr/pre/keys/" + id);
  CHECK(HeaderIn(put.headers, "If-None-Match") == "*");
  CHECK(HeaderIn(put.headers, "x-ms-blob-type") == "BlockBlob");
  CHECK(HeaderIn(put.headers, "Authorization").starts_with("SharedKey devstoreaccount1:"));

  std::string exists = "<Error><Code>BlobAlreadyExists</Code><Message>x</Message></Error>";
  for (int status : {409, 412}) {
    server.Script({Answer(status, exists)});
    auto conflict = backend->Write(FileType::kKey, id, AsBytes("small"));
    REQUIRE_FALSE(conflict.ok());
    CHECK(conflict.error().kind() == ErrorKind::kConflict);
  }

  // 11 bytes in blocks of 4: three Put Block, then one Put Block List.
  size_t before = server.requests().size();
  server.Script({Answer(201), Answer(201), Answer(201), Answer(201)});
  REQUIRE(backend->Write(FileType::kPack, id, AsBytes("hello world")).ok());
  auto seen = server.requests();
  REQUIRE(seen.size() == before + 4);
  std::string block0 = Base64Encode(AsBytes("stash-block-00000000"));
  CHECK(seen[before].target == "/devstoreaccount1/ctr/pre/data/cc/" + id +
                                   "?blockid=" + UriEncode(block0, false) + "&comp=block");
  CHECK(seen[before].body_size == 4);
  CHECK(seen[before + 2].body_size == 3);
  CHECK(seen[before + 3].target == "/devstoreaccount1/ctr/pre/data/cc/" + id + "?comp=blocklist");
  CHECK(HeaderIn(seen[before + 3].headers, "If-None-Match") == "*");

  // From a file: one Put Blob sent from it when it fits, blocks otherwise.
  int fd = ::memfd_create("pack", 0);
  REQUIRE(::write(fd, "hello world", 11) == 11);
  server.Script({Answer(201)});
  REQUIRE(backend->WriteFromFile(FileType::kPack, id, fd, 5).ok());
  CHECK(server.requests().back().body == "hello");
  CHECK(HeaderIn(server.requests().back().headers, "x-ms-blob-type") == "BlockBlob");
  before = server.requests().size();
  server.Script({Answer(201), Answer(201), Answer(201), Answer(201)});
  REQUIRE(backend->WriteFromFile(FileType::kPack, id, fd, 11).ok());
  CHECK(server.requests().size() == before + 4);
  ::close(fd);
}

TEST_CASE("azure: reads, stat, remove and error messages", "[azure]") {
  FakeHttpServer server;
  auto backend = Open(FakeConfig(server));
  std::string id(64, 'd');

  server.Script({Answer(206, "llo")});
  auto part = backend->Read(FileType::kPack, id, 2, 3);
  REQUIRE(part.ok());
  CHECK(AsString(*part) == "llo");
  CHECK(HeaderIn(server.requests().back().headers, "Range") == "bytes=2-4");

  server.Script({Answer(206, "l")});
  auto short_read = backend->Read(FileType::kPack, id, 2, 3);
  REQUIRE_FALSE(short_read.ok());
  CHECK(short_read.error().kind() == ErrorKind::kCorrupt);
  // A 416 "to the end" is looked at once more: at the very end it is an
  // empty read, anywhere else (here: no such blob) the read fails.
  server.Script({Answer(416, "<Error><Code>InvalidRange</Code></Error>"), Answer(404)});
  auto past_end = backend->Read(FileType::kPack, id, 100, 0);
  REQUIRE_FALSE(past_end.ok());
  CHECK(past_end.error().kind() == ErrorKind::kCorrupt);
  auto asked = server.requests();
  REQUIRE(asked.size() >= 2);
  CHECK(HeaderIn(asked[asked.size() - 2].headers, "Range") == "bytes=100-");
  server.Script({Answer(416, "<Error><Code>InvalidRange</Code></Error>"),
                 Answer(200, std::string(100, 'x'))});
  auto at_end = backend->Read(FileType::kPack, id, 100, 0);
  REQUIRE(at_end.ok());
  CHECK(at_end->empty());

  server.Script({Answer(200, "12345")});
  auto info = backend->Stat(FileType::kSnapshot, id);
  REQUIRE(info.ok());
  CHECK(info->size == 5);
  CHECK(server.requests().back().method == "HEAD");

  server.Script({Answer(404, "", "x-ms-error-code: BlobNotFound\r\n")});
  auto missing = backend->Remove(FileType::kLock, id);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind() == ErrorKind::kNotFound);
  CHECK(missing.error().message() == "azure: locks/" + id + ": 404 Not Found: BlobNotFound");
  server.Script({Answer(202)});
  CHECK(backend->Remove(FileType::kLock, id).ok());
  CHECK(server.requests().back().method == "DELETE");

  std::string denied = "<?xml version=\"1.0\"?><Error><Code>AuthenticationFailed</Code><Message>"
                       "Server failed to authenticate the request.\nRequestId:1</Message></Error>";
  server.Script({Answer(403, denied)});
  auto auth = backend->Read(FileType::kConfig, "config");
  REQUIRE_FALSE(auth.ok());
  CHECK(auth.error().kind() == ErrorKind::kAuth);
  CHECK(auth.error().message() == "azure: config: 403 Forbidden: AuthenticationFailed: "
                                  "Server failed to authenticate the request.");
}

TEST_CASE("azure: create makes the container; a SAS replaces signing", "[azure]") {
  FakeHttpServer server;
  auto config = FakeConfig(server);
  config.key.clear();
  config.sas = "sv=2019-12-12&sig=abc%2B";
  auto backend = Open(config);
  server.Script({Answer(404), Answer(404), Answer(201)});
  REQUIRE(backend->Create().ok());
  auto seen = server.requests();
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].target == "/devstoreaccount1/ctr/pre/config?sv=2019-12-12&sig=abc%2B");
  CHECK(seen[1].method == "HEAD");
  CHECK(seen[2].method == "PUT");
  CHECK(seen[2].target == "/devstoreaccount1/ctr?restype=container&sv=2019-12-12&sig=abc%2B");
  CHECK(HeaderIn(seen[2].headers, "Authorization").empty());

  server.Script({Answer(200, "cfg")});
  auto again = backend->Create();
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().kind() == ErrorKind::kConflict);
  CHECK(backend->Location() == "azure:ctr:/pre");
}
