// The pieces of the remote backends that need no server: SigV4 signing
// (against AWS's published vectors), URL and location parsing, the S3 XML
// and REST JSON parsers, and the retry policy.
#include <map>
#include <catch2/catch.hpp>

#include <cstdlib>

#include "net/retry.h"
#include "storage/backends/sigv4.h"
#include "net/url.h"
#include "storage/backends/xml.h"
#include "storage/backends/rest_backend.h"
#include "storage/backends/s3_backend.h"

using namespace stash;
using namespace stash::http;

namespace {

constexpr char kEmpty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// The credentials and scope of AWS's SigV4 test suite (aws-c-auth,
// tests/aws-signing-test-suite/v4): 2015-08-30T12:36:00Z, us-east-1.
SigV4Credentials SuiteCredentials() {
  return {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
}
SigV4Scope SuiteScope() { return {"us-east-1", "service", "20150830T123600Z"}; }

SigV4Request SuiteGet(std::string uri, HeaderList query = {}) {
  return {"GET", std::move(uri), std::move(query),
          {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}}, kEmpty};
}

std::string SuiteSignature(const SigV4Request& r, const SigV4Credentials& c = SuiteCredentials()) {
  auto scope = SuiteScope();
  return Signature(c, scope, StringToSign(scope, CanonicalRequest(r, nullptr)));
}

// The S3 documentation's examples (sig-v4-header-based-auth): 2013-05-24.
SigV4Credentials S3DocCredentials() {
  return {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
}
SigV4Scope S3DocScope() { return {"us-east-1", "s3", "20130524T000000Z"}; }

}  // namespace

TEST_CASE("sigv4: get-vanilla, step by step", "[sigv4]") {
  auto r = SuiteGet("/");
  std::string signed_headers;
  std::string canonical = CanonicalRequest(r, &signed_headers);
  CHECK(canonical ==
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
        "host;x-amz-date\n" + std::string(kEmpty));
  CHECK(signed_headers == "host;x-amz-date");
  CHECK(StringToSign(SuiteScope(), canonical) ==
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  CHECK(Authorization(SuiteCredentials(), SuiteScope(), r) ==
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST_CASE("sigv4: AWS test suite vectors", "[sigv4]") {
  CHECK(SuiteSignature(SuiteGet("/", {{"Param2", "value2"}, {"Param1", "value1"}})) ==
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
  CHECK(SuiteSignature(SuiteGet("/", {{"Param1", "value1"}})) ==
        "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb");
  CHECK(SuiteSignature(SuiteGet(UriEncode("/\xE1\x88\xB4", true))) ==
        "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
  CHECK(SuiteSignature(SuiteGet("/", {{"\xE1\x88\xB4", "bar"}})) ==
        "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04");
  std::string unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  CHECK(SuiteSignature(SuiteGet("/", {{unreserved, unreserved}})) ==
        "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197");

  auto post = SuiteGet("/");
  post.method = "POST";
  CHECK(SuiteSignature(post) == "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");

  auto trim = SuiteGet("/");
  trim.headers.emplace_back("My-Header1", " value1");
  trim.headers.emplace_back("My-Header2", " \"a   b   c\"");
  std::string signed_headers;
  CanonicalRequest(trim, &signed_headers);
  CHECK(signed_headers == "host;my-header1;my-header2;x-amz-date");
  CHECK(SuiteSignature(trim) == "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");

  auto token = SuiteGet("/");
  token.headers.emplace_back("X-Amz-Security-Token",
                             "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267");
  CHECK(SuiteSignature(token) == "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8");
}

TEST_CASE("sigv4: post-x-www-form-urlencoded signs the body hash", "[sigv4]") {
  std::string hash = HexSha256("Param1=value1");
  CHECK(hash == "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  SigV4Request r{"POST", "/", {},
                 {{"Content-Type", "application/x-www-form-urlencoded"},
                  {"Host", "example.amazonaws.com"},
                  {"Content-Length", "13"},
                  {"X-Amz-Date", "20150830T123600Z"},
                  {"x-amz-content-sha256", hash}},
                 hash};
  CHECK(Authorization(SuiteCredentials(), SuiteScope(), r) ==
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, "
        "Signature=d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b");
}

TEST_CASE("sigv4: S3 documentation examples", "[sigv4]") {
  auto scope = S3DocScope();
  auto sign = [&](const SigV4Request& r) {
    return Signature(S3DocCredentials(), scope, StringToSign(scope, CanonicalRequest(r, nullptr)));
  };
  SigV4Request get{"GET", "/test.txt", {},
                   {{"Host", "examplebucket.s3.amazonaws.com"},
                    {"Range", "bytes=0-9"},
                    {"x-amz-content-sha256", kEmpty},
                    {"x-amz-date", "20130524T000000Z"}},
                   kEmpty};
  CHECK(sign(get) == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");

  std::string body_hash = HexSha256("Welcome to Amazon S3.");
  CHECK(body_hash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SigV4Request put{"PUT", "/" + UriEncode("test$file.text", true), {},
                   {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                    {"Host", "examplebucket.s3.amazonaws.com"},
                    {"x-amz-content-sha256", body_hash},
                    {"x-amz-date", "20130524T000000Z"},
                    {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                   body_hash};
  CHECK(put.canonical_uri == "/test%24file.text");
  CHECK(sign(put) == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");

  SigV4Request list{"GET", "/", {{"prefix", "J"}, {"max-keys", "2"}},
                    {{"Host", "examplebucket.s3.amazonaws.com"},
                     {"x-amz-content-sha256", kEmpty},
                     {"x-amz-date", "20130524T000000Z"}},
                    kEmpty};
  CHECK(sign(list) == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST_CASE("sigv4: canonical query and dates", "[sigv4]") {
  CHECK(CanonicalQuery({{"prefix", "repo/data/"}, {"list-type", "2"}}) ==
        "list-type=2&prefix=repo%2Fdata%2F");
  CHECK(CanonicalQuery({{"continuation-token", "a+b/c="}}) == "continuation-token=a%2Bb%2Fc%3D");
  CHECK(CanonicalQuery({{"location", ""}}) == "location=");
  CHECK(AmzDate(1440938160) == "20150830T123600Z");
}

TEST_CASE("url: parsing", "[url]") {
  auto u = ParseUrl("https://us%40r:p%3Ass@Example.com:8443/repo/x/?a=1");
  REQUIRE(u.ok());
  CHECK(u->scheme == "https");
  CHECK(u->user == "us@r");
  CHECK(u->password == "p:ss");
  CHECK(u->has_password);
  CHECK(u->host == "example.com");
  CHECK(u->port == 8443);
  CHECK(u->path == "/repo/x/");
  CHECK(u->query == "a=1");
  CHECK(u->HostHeader() == "example.com:8443");
  CHECK(u->Origin() == "https://example.com:8443");

  auto plain = ParseUrl("http://127.0.0.1");
  REQUIRE(plain.ok());
  CHECK(plain->port == 80);
  CHECK(plain->path == "/");
  CHECK(plain->HostHeader() == "127.0.0.1");

  auto v6 = ParseUrl("http://[::1]:8000/r/");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->HostHeader() == "[::1]:8000");

  auto at_in_password = ParseUrl("http://u:p@ss@host/");
  REQUIRE(at_in_password.ok());
  CHECK(at_in_password->password == "p@ss");

  CHECK_FALSE(ParseUrl("ftp://host/").ok());
  CHECK_FALSE(ParseUrl("http://host:99999/").ok());
  CHECK_FALSE(ParseUrl("http://host:12ab/").ok());
  CHECK_FALSE(ParseUrl("http:///path").ok());
  CHECK_FALSE(ParseUrl("http://[::1/").ok());
  CHECK_FALSE(ParseUrl("host/path").ok());
  CHECK_FALSE(ParseUrl("http://u:%zz@host/").ok());
  CHECK_FALSE(PercentDecode("abc%4").ok());
  CHECK_FALSE(PercentDecode("%").ok());
}

TEST_CASE("url: encoding, cleaning, IP literals", "[url]") {
  CHECK(UriEncode("a b/c+d~", true) == "a%20b/c%2Bd~");
  CHECK(UriEncode("a b/c", false) == "a%20b%2Fc");
  CHECK(UriEncode("\xC3\xA9", false) == "%C3%A9");
  CHECK(CleanPath("a//b/./c/") == "a/b/c");
  CHECK(CleanPath("/a/../b") == "b");
  CHECK(CleanPath("") == "");
  CHECK(IsIpLiteral("127.0.0.1"));
  CHECK(IsIpLiteral("::1"));
  CHECK_FALSE(IsIpLiteral("localhost"));
  CHECK_FALSE(IsIpLiteral("1.2.3.4.example.com"));
}

TEST_CASE("rest: locations", "[rest]") {
  auto loc = ParseRestLocation("rest:https://alice:s3cret@host:8000/alice/repo");
  REQUIRE(loc.ok());
  CHECK(loc->url.path == "/alice/repo/");
  CHECK(loc->url.user == "alice");
  CHECK(loc->url.password == "s3cret");
  CHECK(loc->display == "rest:https://alice:***@host:8000/alice/repo/");
  auto bare = ParseRestLocation("rest:http://127.0.0.1:8000/");
  REQUIRE(bare.ok());
  CHECK(bare->url.path == "/");
  CHECK(bare->display == "rest:http://127.0.0.1:8000/");
  CHECK_FALSE(ParseRestLocation("rest:").ok());
  CHECK_FALSE(ParseRestLocation("rest:127.0.0.1:8000/").ok());
  CHECK(RestPath(FileType::kPack, "ab12") == "data/ab12");
  CHECK(RestPath(FileType::kConfig, "") == "config");
}

TEST_CASE("rest: v1 and v2 listings", "[rest]") {
  std::string id(64, 'a'), id2(64, 'b');
  auto v2 = ParseRestListing(R"([{"name":")" + id + R"(","size":12},{"name":"junk","size":1}])", true);
  REQUIRE(v2.ok());
  REQUIRE(v2->size() == 1);
  CHECK((*v2)[0].name == id);
  CHECK((*v2)[0].size == 12);
  auto v1 = ParseRestListing(R"([")" + id + R"(",")" + id2 + R"("])", false);
  REQUIRE(v1.ok());
  CHECK(v1->size() == 2);
  CHECK_FALSE(ParseRestListing("{}", true).ok());
  CHECK_FALSE(ParseRestListing("[{\"name\":1}]", true).ok());
  CHECK_FALSE(ParseRestListing("[1]", false).ok());
  CHECK_FALSE(ParseRestListing("[\"", false).ok());
}

TEST_CASE("s3: locations as restic parses them", "[s3]") {
  auto url = ParseS3Location("s3:https://127.0.0.1:9000/bucket/some//prefix/");
  REQUIRE(url.ok());
  CHECK(url->endpoint == "127.0.0.1:9000");
  CHECK_FALSE(url->use_http);
  CHECK(url->bucket == "bucket");
  CHECK(url->prefix == "some/prefix");
  auto http = ParseS3Location("s3:http://minio.local/b");
  REQUIRE(http.ok());
  CHECK(http->use_http);
  CHECK(http->endpoint == "minio.local");
  CHECK(http->prefix.empty());
  auto bare = ParseS3Location("s3:s3.amazonaws.com/bucket/a/b");
  REQUIRE(bare.ok());
  CHECK(bare->endpoint == "s3.amazonaws.com");
  CHECK(bare->bucket == "bucket");
  CHECK(bare->prefix == "a/b");
  CHECK_FALSE(bare->use_http);
  auto slashes = ParseS3Location("s3://host:9000/bkt");
  REQUIRE(slashes.ok());
  CHECK(slashes->endpoint == "host:9000");
  CHECK(slashes->bucket == "bkt");
  CHECK_FALSE(ParseS3Location("s3:https://host").ok());
  CHECK_FALSE(ParseS3Location("s3:https://host/").ok());
  CHECK_FALSE(ParseS3Location("s3:host").ok());
  CHECK_FALSE(ParseS3Location("s3:host/").ok());
  CHECK_FALSE(ParseS3Location("gs:bucket/x").ok());
}

TEST_CASE("s3: credentials and options from the settings", "[s3]") {
  std::map<std::string, std::string> env;
  BackendOptions settings;
  settings.env = [&](const std::string& name) { return env.count(name) ? env[name] : ""; };
  S3Config c;
  auto missing = S3ConfigFromSettings(c, settings);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message().find("AWS_ACCESS_KEY_ID") != std::string::npos);
  env = {{"AWS_ACCESS_KEY_ID", "id"}, {"AWS_SECRET_ACCESS_KEY", "secret"},
         {"AWS_SESSION_TOKEN", "tok"}, {"AWS_DEFAULT_REGION", "eu-central-1"},
         {"STASH_S3_BUCKET_LOOKUP", "dns"}};
  REQUIRE(S3ConfigFromSettings(c, settings).ok());
  CHECK(c.credentials.session_token == "tok");
  CHECK(c.region == "eu-central-1");
  CHECK(c.lookup == S3Config::Lookup::kDns);
  env["STASH_S3_BUCKET_LOOKUP"] = "sideways";
  CHECK_FALSE(S3ConfigFromSettings(c, settings).ok());
}

TEST_CASE("s3: regions, addressing and layouts", "[s3]") {
  CHECK(RegionFromEndpoint("s3.amazonaws.com") == "us-east-1");
  CHECK(RegionFromEndpoint("s3.eu-west-1.amazonaws.com") == "eu-west-1");
  CHECK(RegionFromEndpoint("s3-us-west-2.amazonaws.com") == "us-west-2");
  CHECK(RegionFromEndpoint("s3.dualstack.ap-south-1.amazonaws.com") == "ap-south-1");
  CHECK(RegionFromEndpoint("127.0.0.1:9000") == "");

  S3Config c;
  c.endpoint = "s3.amazonaws.com";
  c.bucket = "my-bucket";
  CHECK(UseVirtualHost(c));
  c.bucket = "my.bucket";  // dots break the wildcard certificate over HTTPS
  CHECK_FALSE(UseVirtualHost(c));
  c.endpoint = "127.0.0.1:9000";
  c.bucket = "my-bucket";
  CHECK_FALSE(UseVirtualHost(c));
  c.lookup = S3Config::Lookup::kDns;
  CHECK(UseVirtualHost(c));
  c.endpoint = "s3.amazonaws.com";
  c.lookup = S3Config::Lookup::kPath;
  CHECK_FALSE(UseVirtualHost(c));

  std::string id = "ab" + std::string(62, 'c');
  CHECK(S3RelativeKey(S3Layout::kDefault, FileType::kPack, id) == "data/ab/" + id);
  CHECK(S3RelativeKey(S3Layout::kDefault, FileType::kKey, id) == "keys/" + id);
  CHECK(S3RelativeKey(S3Layout::kLegacy, FileType::kPack, id) == "data/" + id);
  CHECK(S3RelativeKey(S3Layout::kLegacy, FileType::kKey, id) == "key/" + id);
  CHECK(S3RelativeKey(S3Layout::kLegacy, FileType::kSnapshot, id) == "snapshot/" + id);
  CHECK(S3RelativeKey(S3Layout::kLegacy, FileType::kLock, id) == "lock/" + id);
  CHECK(S3RelativeKey(S3Layout::kLegacy, FileType::kConfig, "config") == "config");
}

TEST_CASE("xml: ListObjectsV2 pages", "[xml]") {
  std::string page =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Name>b</Name><Prefix>p/data/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>"
      "<IsTruncated>true</IsTruncated>"
      "<Contents><Key>p/data/ab/one&amp;two</Key><LastModified>x</LastModified>"
      "<ETag>&quot;e&quot;</ETag><Size>1234</Size><StorageClass>STANDARD</StorageClass></Contents>"
      "<Contents><Key>p/&#x41;&#66;</Key><Size>0</Size></Contents>"
      "<NextContinuationToken>tok/+=</NextContinuationToken></ListBucketResult>";
  auto parsed = ParseListPage(page);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->objects.size() == 2);
  CHECK(parsed->objects[0].key == "p/data/ab/one&two");
  CHECK(parsed->objects[0].size == 1234);
  CHECK(parsed->objects[1].key == "p/AB");
  CHECK(parsed->truncated);
  CHECK(parsed->next_token == "tok/+=");

  auto empty = ParseListPage("<ListBucketResult><IsTruncated>false</IsTruncated><Contents/></ListBucketResult>");
  CHECK_FALSE(empty.ok());  // a <Contents/> with no key is malformed
  auto none = ParseListPage("<ListBucketResult><KeyCount>0</KeyCount></ListBucketResult>");
  REQUIRE(none.ok());
  CHECK(none->objects.empty());
  CHECK_FALSE(none->truncated);
}

TEST_CASE("xml: malformed input is refused, never overrun", "[xml]") {
  CHECK_FALSE(ParseListPage("<Error><Code>AccessDenied</Code></Error>").ok());
  CHECK_FALSE(ParseListPage("<ListBucketResult><Contents><Key>k</Key><Size>12x</Size></Contents>").ok());
  CHECK_FALSE(ParseListPage("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>").ok());
  CHECK(ParseListPage("<ListBucketResult><Contents><Key>k").ok());  // unterminated: no entries
  CHECK(XmlText("<Error><Code>SignatureDoesNotMatch</Code></Error>", "Code") ==
        "SignatureDoesNotMatch");
  CHECK_FALSE(XmlText("<Codes>x</Codes>", "Code"));
  CHECK(XmlText("<Code>a &bogus; &#xFFFFFFFF; &#; &</Code>", "Code") ==
        "a &bogus; &#xFFFFFFFF; &#; &");
  CHECK(XmlUnescape("<![CDATA[a<b]]>c") == "a<bc");
  CHECK(XmlUnescape("<![CDATA[open") == "open");
  CHECK(XmlElements("<a", "a").empty());
  CHECK(XmlElements("<a>", "a").empty());
}

TEST_CASE("retry: which answers are retried, and how long to wait", "[retry]") {
  CHECK(RetryPolicy::IsRetryableStatus(500));
  CHECK(RetryPolicy::IsRetryableStatus(503));
  CHECK(RetryPolicy::IsRetryableStatus(429));
  for (int status : {200, 206, 400, 401, 403, 404, 409, 416}) {
    CHECK_FALSE(RetryPolicy::IsRetryableStatus(status));
  }
  RetryPolicy p;
  p.base_delay = std::chrono::milliseconds(100);
  p.max_delay = std::chrono::milliseconds(1000);
  CHECK(p.DelayBefore(1, 0.999999).count() == 99);
  CHECK(p.DelayBefore(1, 0.0).count() == 50);
  CHECK(p.DelayBefore(2, 0.999999).count() == 199);
  CHECK(p.DelayBefore(3, 0.999999).count() == 399);
  CHECK(p.DelayBefore(5, 0.999999).count() == 999);  // capped
  CHECK(p.DelayBefore(60, 1.0).count() == 1000);
  CHECK(p.DelayBefore(60, 0.0).count() == 500);
  CHECK(p.DelayBefore(1, -3.0).count() == 50);  // jitter is clamped
}
