// The apiserver's parsers and formats: selectors, Accept headers, request
// paths, Status objects, tables, discovery, manifests, snapshot objects.
// They read bytes from the network and from YAML, so they also run under
// ASan/UBSan.
#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include "apiserver/machinery/discovery.h"
#include "apiserver/machinery/list_options.h"
#include "apiserver/snapshots/manifests.h"
#include "apiserver/machinery/negotiate.h"
#include "apiserver/machinery/openapi.h"
#include "apiserver/machinery/request_info.h"
#include "apiserver/snapshots/snapshot_object.h"
#include "apiserver/machinery/status.h"
#include "apiserver/machinery/table.h"

using namespace stash;
using namespace stash::apiserver;

namespace {

rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

bool Selects(const std::string& selector, const Labels& labels) {
  auto s = LabelSelector::Parse(selector);
  REQUIRE(s.ok());
  return s->Matches(labels);
}

Query Q(const std::string& raw) { return *Query::Parse(raw); }

}  // namespace

TEST_CASE("label selectors: the Kubernetes operators") {
  Labels l = {{"repository", "foo"}, {"hostname", "web-1"}, {"tier", "3"}};
  CHECK(Selects("", l));
  CHECK(Selects("repository=foo", l));
  CHECK(Selects("repository==foo", l));
  CHECK_FALSE(Selects("repository!=foo", l));
  CHECK(Selects("missing!=foo", l));  // != also matches objects without the key
  CHECK(Selects("repository in (bar, foo)", l));
  CHECK_FALSE(Selects("repository notin (foo)", l));
  CHECK(Selects("missing notin (foo)", l));
  CHECK(Selects("repository", l));
  CHECK_FALSE(Selects("!repository", l));
  CHECK(Selects("!missing,hostname=web-1", l));
  CHECK(Selects("tier>2,tier<4", l));
  CHECK_FALSE(Selects("tier>3", l));
  CHECK(Selects("  repository  =  foo ,hostname in(web-1)", l));
  CHECK(Selects("example.com/key!=x", l));
  CHECK(Selects("empty=", {{"empty", ""}}));
}

TEST_CASE("label selectors: malformed ones are kInvalid, never a crash") {
  for (const char* bad : {"repository in (", "repository in foo", "a=b=c", "a notin ()", "!", "a,",
                          ",", "=foo", "a b", "in=x", "a!", "a>b", "-bad=x", "a=-bad", "a=(b)",
                          "a in (b c)", "!a=b", "(", "a in (b,c", "\xff\xfe=x"}) {
    INFO(bad);
    auto s = LabelSelector::Parse(bad);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().kind() == ErrorKind::kInvalid);
    CHECK(s.error().message().find("unable to parse requirement") == 0);
  }
  CHECK(LabelSelector::Parse(std::string(100, 'k') + "=v").ok() == false);  // name part over 63
}

TEST_CASE("label selectors pin values per key") {
  auto s = *LabelSelector::Parse("repository in (a,b),repository=b,hostname");
  auto v = s.AllowedValues("repository");
  REQUIRE(v);
  CHECK(*v == std::set<std::string>{"b"});
  CHECK_FALSE(s.AllowedValues("hostname"));
}

TEST_CASE("field selectors: metadata.name and metadata.namespace") {
  auto s = FieldSelector::Parse("metadata.name=snap-1,metadata.namespace!=kube-system", kFieldSelectorFields);
  REQUIRE(s.ok());
  auto value = [](const std::string& name, const std::string& ns) {
    return [=](const std::string& f) { return f == "metadata.name" ? name : ns; };
  };
  CHECK(s->Matches(value("snap-1", "demo")));
  CHECK_FALSE(s->Matches(value("snap-2", "demo")));
  CHECK_FALSE(s->Matches(value("snap-1", "kube-system")));
  CHECK(s->RequiredValue("metadata.name") == "snap-1");
  auto escaped = FieldSelector::Parse("metadata.name=a\\,b", kFieldSelectorFields);
  REQUIRE(escaped.ok());
  CHECK(escaped->RequiredValue("metadata.name") == "a,b");
  auto unknown = FieldSelector::Parse("spec.foo=x", kFieldSelectorFields);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message() ==
        "\"spec.foo\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"");
  CHECK_FALSE(FieldSelector::Parse("metadata.name", kFieldSelectorFields).ok());
  CHECK_FALSE(FieldSelector::Parse("metadata.name=a\\x", kFieldSelectorFields).ok());
  CHECK(FieldSelector::Parse("", kFieldSelectorFields)->empty());
}

TEST_CASE("Accept negotiation as kubectl and client-go send it") {
  std::vector<Representation> objects = {Representation::kJson, Representation::kTable,
                                         Representation::kPartialMetadata};
  auto table = Negotiate("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"
                         "g=meta.k8s.io,application/json", objects);
  REQUIRE(table);
  CHECK(table->representation == Representation::kTable);
  CHECK(table->version == "v1");
  auto proto = Negotiate("application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,"
                         "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json",
                         objects);
  REQUIRE(proto);
  CHECK(proto->representation == Representation::kPartialMetadata);
  CHECK(Negotiate("", objects)->representation == Representation::kJson);
  CHECK(Negotiate("*/*", objects)->representation == Representation::kJson);
  CHECK_FALSE(Negotiate("application/vnd.kubernetes.protobuf", objects));
  CHECK_FALSE(Negotiate("text/html", objects));
  auto discovery = Negotiate("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
                             {Representation::kJson, Representation::kDiscoveryV2, Representation::kDiscoveryV2Beta1});
  REQUIRE(discovery);
  CHECK(discovery->content_type == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  CHECK_FALSE(Negotiate("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", objects));
}

TEST_CASE("request paths become request info") {
  auto list = ParseRequestInfo("GET", "/apis/repositories.stash.appscode.com/v1alpha1/namespaces/demo/snapshots",
                               Q("limit=500"));
  CHECK(list.is_resource_request);
  CHECK(list.verb == "list");
  CHECK(list.ns == "demo");
  CHECK(list.resource == "snapshots");
  auto item = ParseRequestInfo("DELETE", "/apis/g/v1/namespaces/demo/snapshots/x-1234abcd", Q(""));
  CHECK(item.verb == "delete");
  CHECK(item.name == "x-1234abcd");
  CHECK(ParseRequestInfo("DELETE", "/apis/g/v1/namespaces/demo/snapshots", Q("")).verb == "deletecollection");
  auto watch = ParseRequestInfo("GET", "/apis/g/v1/snapshots", Q("watch=true&fieldSelector=metadata.name%3Dx"));
  CHECK(watch.verb == "watch");
  CHECK(watch.ns.empty());
  CHECK(watch.name == "x");
  CHECK(ParseRequestInfo("GET", "/apis/g/v1/watch/namespaces/demo/snapshots", Q("")).verb == "watch");
  CHECK(ParseRequestInfo("POST", "/apis/g/v1/namespaces/demo/snapshots", Q("")).verb == "create");
  CHECK(ParseRequestInfo("PATCH", "/apis/g/v1/namespaces/demo/snapshots/a", Q("")).verb == "patch");
  CHECK_FALSE(ParseRequestInfo("GET", "/apis/g/v1", Q("")).is_resource_request);
  CHECK(ParseRequestInfo("GET", "/apis/g/v1/namespaces/demo/snapshots/a/status", Q("")).subresource == "status");
}

TEST_CASE("request targets are decoded strictly") {
  auto t = ParseTarget("/apis/a%2Fb?labelSelector=repository+in+%28foo%29%2C%21x&limit=500");
  REQUIRE(t);
  CHECK(t->first == "/apis/a/b");
  CHECK(t->second.Get("labelSelector") == "repository in (foo),!x");
  CHECK(t->second.Get("limit") == "500");
  CHECK_FALSE(t->second.Has("continue"));
  CHECK_FALSE(ParseTarget("/bad%zz"));
  CHECK_FALSE(ParseTarget("/x?a=%4"));
  CHECK_FALSE(ParseTarget("relative"));
}

TEST_CASE("Status objects read like kube-apiserver's") {
  auto nf = ParseJson(StatusJson(NotFoundStatus("repositories.stash.appscode.com", "snapshots", "nope")));
  CHECK(std::string(nf["kind"].GetString()) == "Status");
  CHECK(std::string(nf["status"].GetString()) == "Failure");
  CHECK(std::string(nf["reason"].GetString()) == "NotFound");
  CHECK(std::string(nf["message"].GetString()) == "snapshots.repositories.stash.appscode.com \"nope\" not found");
  CHECK(std::string(nf["details"]["kind"].GetString()) == "snapshots");
  CHECK(nf["code"].GetInt() == 404);
  CHECK(StatusResponse(MethodNotAllowedStatus()).status == 405);
  CHECK(StatusResponse(BadRequestStatus("x")).status == 400);
  CHECK(StatusResponse(UnauthorizedStatus()).status == 401);
  CHECK(StatusResponse(ForbiddenStatus("x")).status == 403);
  CHECK(StatusFromError(Conflict("locked"), "g", "snapshots", "a").code == 409);
  CHECK(StatusFromError(IOError("down"), "g", "snapshots", "a").code == 503);
  CHECK(StatusFromError(Corrupt("bad"), "g", "snapshots", "a").code == 500);
  auto ok = ParseJson(SuccessStatusJson("a", "g", "snapshots", "u"));
  CHECK(std::string(ok["status"].GetString()) == "Success");
  auto quoted = ParseJson(StatusJson(BadRequestStatus("a \"quoted\" <tag> \xff")));
  CHECK(std::string(quoted["message"].GetString()) == "a \"quoted\" <tag> \xef\xbf\xbd");
}

TEST_CASE("ages are printed as kube-apiserver prints them") {
  CHECK(HumanDuration(-5) == "<invalid>");
  CHECK(HumanDuration(-1) == "0s");
  CHECK(HumanDuration(0) == "0s");
  CHECK(HumanDuration(119) == "119s");
  CHECK(HumanDuration(120) == "2m");
  CHECK(HumanDuration(200) == "3m20s");
  CHECK(HumanDuration(600) == "10m");
  CHECK(HumanDuration(179 * 60) == "179m");
  CHECK(HumanDuration(3 * 3600 + 5 * 60) == "3h5m");
  CHECK(HumanDuration(8 * 3600) == "8h");
  CHECK(HumanDuration(47 * 3600) == "47h");
  CHECK(HumanDuration(2 * 86400 + 3 * 3600) == "2d3h");
  CHECK(HumanDuration(8 * 86400) == "8d");
  CHECK(HumanDuration(800LL * 86400) == "2y70d");
  CHECK(HumanDuration(9LL * 365 * 86400) == "9y");
}
