// Stash's ${...} substitution (stashapi/envsubst.h) and the Task -> Job pod
// resolution built on it (stashapi/v1beta1_task.h).
#include <catch2/catch.hpp>

#include "base/json_util.h"
#include "stashapi/envsubst.h"
#include "stashapi/v1beta1_task.h"

namespace stash {
namespace {

std::string Subst(const std::string& text, const SubstInputs& in) {
  auto out = EnvSubst(text, in);
  REQUIRE(out.ok());
  return *out;
}

std::string Failure(const std::string& text, const SubstInputs& in) {
  auto out = EnvSubst(text, in);
  REQUIRE_FALSE(out.ok());
  return out.error().message();
}

rapidjson::Document Doc(const std::string& text) {
  auto doc = json::Parse(text, "test object");
  REQUIRE(doc.ok());
  return std::move(*doc);
}

TEST_CASE("envsubst: plain variables, and an absent key is an error naming it") {
  SubstInputs in{{"A", "x"}, {"EMPTY", ""}};
  CHECK(Subst("a ${A} b", in) == "a x b");
  CHECK(Subst("${A}${A}", in) == "xx");
  CHECK(Subst("[${EMPTY}]", in) == "[]");
  CHECK(Subst("no vars", in) == "no vars");
  CHECK(Failure("${MISSING}", in).find("MISSING") != std::string::npos);
  CHECK(Failure("x ${MISSING} y", in).find("no value and no default") != std::string::npos);
}

TEST_CASE("envsubst: the three defaults apply only when the key is absent") {
  SubstInputs in{{"SET", "v"}, {"EMPTY", ""}};
  for (const char* op : {"=", ":=", ":-"}) {
    CAPTURE(op);
    CHECK(Subst(std::string("${SET") + op + "d}", in) == "v");
    CHECK(Subst(std::string("${EMPTY") + op + "d}", in) == "");  // present, even empty
    CHECK(Subst(std::string("${ABSENT") + op + "d}", in) == "d");
    CHECK(Subst(std::string("${ABSENT") + op + "}", in) == "");
  }
  // As the update-status Function writes them.
  CHECK(Subst("--namespace=${NAMESPACE:=default} --repository=${REPOSITORY_NAME:=}", in) ==
        "--namespace=default --repository=");
  // A default may hold variables itself.
  CHECK(Subst("${ABSENT:=${SET}-x}", in) == "v-x");
  CHECK(Failure("${ABSENT:=${ALSO_ABSENT}}", in).find("ALSO_ABSENT") != std::string::npos);
}

TEST_CASE("envsubst: the other forms of an absent key are errors") {
  SubstInputs in;
  for (const char* expr : {"${X-d}", "${X+a}", "${X:?m}", "${X:+a}", "${#X}", "${X^^}", "${X:1}", "${X#a}",
                           "${X/a/b}"}) {
    CAPTURE(expr);
    CHECK(Failure(expr, in).find("X") != std::string::npos);
  }
}

TEST_CASE("envsubst: the bash-like forms of a present key") {
  SubstInputs in{{"V", "hello.world.txt"}, {"E", ""}, {"M", "MiXed"}};
  CHECK(Subst("${V-d}", in) == "hello.world.txt");
  CHECK(Subst("${V+alt}", in) == "alt");
  CHECK(Subst("${E+alt}", in) == "alt");
  CHECK(Subst("${V:+alt}", in) == "alt");
  CHECK(Subst("${E:+alt}", in) == "");
  CHECK(Subst("${V:?boom}", in) == "hello.world.txt");
  CHECK(Failure("${E:?boom}", in).find("boom") != std::string::npos);
  CHECK(Subst("${#V}", in) == "15");
  CHECK(Subst("${M^}", in) == "MiXed");
  CHECK(Subst("${M^^}", in) == "MIXED");
  CHECK(Subst("${M,}", in) == "miXed");
  CHECK(Subst("${M,,}", in) == "mixed");
  CHECK(Subst("${V:6}", in) == "world.txt");
  CHECK(Subst("${V:6:5}", in) == "world");
  CHECK(Subst("${V:100}", in) == "");
  CHECK(Subst("${V: -3}", in) == "txt");
  CHECK(Subst("${V#*.}", in) == "world.txt");
  CHECK(Subst("${V##*.}", in) == "txt");
  CHECK(Subst("${V%.*}", in) == "hello.world");
  CHECK(Subst("${V%%.*}", in) == "hello");
  CHECK(Subst("${V/o/0}", in) == "hell0.world.txt");
  CHECK(Subst("${V//o/0}", in) == "hell0.w0rld.txt");
  CHECK(Subst("${V/#hello/bye}", in) == "bye.world.txt");
  CHECK(Subst("${V/#world/bye}", in) == "hello.world.txt");
  CHECK(Subst("${V/%txt/md}", in) == "hello.world.md");
  CHECK(Subst("${V//o}", in) == "hell.wrld.txt");
}

TEST_CASE("envsubst: what is not ${NAME...} stays, broken expressions are errors") {
  SubstInputs in{{"A", "x"}};
  CHECK(Subst("$A $(A) $ {A} $", in) == "$A $(A) $ {A} $");
  CHECK(Subst("{\"k\":\"${A}\"}", in) == "{\"k\":\"x\"}");
  CHECK(Failure("${A", in).find("unclosed") != std::string::npos);
  CHECK(Failure("${}", in).find("bad substitution") != std::string::npos);
  CHECK(Failure("${1A}", in).find("bad substitution") != std::string::npos);
  CHECK(Failure("${A!}", in).find("bad substitution") != std::string::npos);
  CHECK(Failure("${A:x}", in).find("not a number") != std::string::npos);
  // Values go in raw, as Stash inserted them.
  CHECK(Subst("\"${A}\"", {{"A", "a\"b"}}) == "\"a\"b\"");
}

const char* kRepository = R"({"metadata":{"name":"repo","namespace":"demo"},
  "spec":{"backend":{"storageSecretName":"repo-secret","gcs":{"bucket":"b","prefix":"p/q","maxConnections":4}}}})";

TEST_CASE("inputs of a Repository, a target, an AppBinding and a retention policy") {
  auto repo = Doc(kRepository);
  auto in = RepositoryInputs(repo);
  CHECK(in["REPOSITORY_NAME"] == "repo");
  CHECK(in["REPOSITORY_PROVIDER"] == "gcs");
  CHECK(in["REPOSITORY_SECRET_NAME"] == "repo-secret");
  CHECK(in["REPOSITORY_BUCKET"] == "b");
  CHECK(in["REPOSITORY_PREFIX"] == "p/q");
  CHECK(in["MAX_CONNECTIONS"] == "4");
  CHECK(in.count("REPOSITORY_ENDPOINT") == 0);
  auto s3 = Doc(R"({"metadata":{"name":"r"},"spec":{"backend":{"s3":{"endpoint":"s3.x","bucket":"bk"}}}})");
  CHECK(RepositoryInputs(s3)["REPOSITORY_ENDPOINT"] == "s3.x");
  auto local = Doc(R"({"metadata":{"name":"r"},"spec":{"backend":{"local":{"mountPath":"/repo","subPath":"s"}}}})");
  CHECK(RepositoryInputs(local)["REPOSITORY_BUCKET"] == "/repo");
  CHECK(RepositoryInputs(local)["REPOSITORY_PREFIX"] == "s");

  V1beta1Target t;
  t.ref = {"appcatalog.appscode.com/v1alpha1", "AppBinding", "pg"};
  t.paths = {"/a", "/b"};
  t.volume_mounts_json = R"([{"name":"d","mountPath":"/data"}])";
  auto ti = TargetInputs(t, "demo");
  CHECK(ti["TARGET_KIND"] == "appbinding");
  CHECK(ti["TARGET_RESOURCE"] == "appbindings");
  CHECK(ti["TARGET_NAMESPACE"] == "demo");
  CHECK(ti["TARGET_PATHS"] == "/a,/b");
  CHECK(ti["TARGET_MOUNT_PATH"] == "/data");

  auto ab = Doc(R"({"spec":{"type":"kubedb.com/postgres","version":"15"}})");
  auto ai = AppBindingInputs(ab);
  CHECK(ai["TARGET_APP_GROUP"] == "kubedb.com");
  CHECK(ai["TARGET_APP_RESOURCE"] == "postgres");
  CHECK(ai["TARGET_APP_VERSION"] == "15");
  CHECK(ai["TARGET_APP_TYPE"] == "kubedb.com/postgres");

  RetentionPolicy p;
  CHECK(RetentionInputs(p).empty());
  p.keep_last = 5;
  p.prune = true;
  p.keep_tags = {"a", "b"};
  auto ri = RetentionInputs(p);
  CHECK(ri.size() == 3);
  CHECK(ri["RETENTION_KEEP_LAST"] == "5");
  CHECK(ri["RETENTION_PRUNE"] == "true");
  CHECK(ri["RETENTION_KEEP_TAGS"] == "a,b");
}

const char* kBackupFunction = R"({"metadata":{"name":"postgres-backup-15"},"spec":{
  "image":"stash/postgres-stash:15",
  "args":["backup-pg","--provider=${REPOSITORY_PROVIDER:=}","--hostname=${HOSTNAME:=host-0}",
          "--retention-keep-last=${RETENTION_KEEP_LAST:=0}","--extra=${extra:=none}","--out=${outputDir}",
          "--ns=${NAMESPACE}"],
  "runtimeSettings":{"env":[{"name":"FN","value":"1"}]}}})";
const char* kUpdateStatus = R"({"metadata":{"name":"update-status"},"spec":{"image":"stash/stash:0.1",
  "args":["update-status","--namespace=${NAMESPACE:=default}","--backup-session=${BACKUP_SESSION:=}",
          "--output-dir=${outputDir:=}"]}})";
const char* kTask = R"({"metadata":{"name":"postgres-backup-15"},"spec":{
  "steps":[{"name":"postgres-backup-15","params":[{"name":"extra","value":"step"},{"name":"NAMESPACE","value":"nope"}]},
           {"name":"update-status"}],
  "volumes":[{"name":"secret","secret":{"secretName":"${REPOSITORY_SECRET_NAME}"}}]}})";

struct Functions {
  rapidjson::Document backup = Doc(kBackupFunction), status = Doc(kUpdateStatus);
  FunctionLookup lookup() {
    return [this](const std::string& name) -> const rapidjson::Value* {
      if (name == "postgres-backup-15") return &backup;
      if (name == "update-status") return &status;
      return nullptr;
    };
  }
};

std::vector<std::string> ArgsOf(const rapidjson::Value& c) { return json::Strings(c, "args"); }

TEST_CASE("a Task becomes the Job's pod: steps, inputs, precedence, volumes") {
  Functions fns;
  auto task = Doc(kTask);
  auto repo = Doc(kRepository);
  auto bc = ParseBackupConfiguration(Doc(R"({"metadata":{"namespace":"demo","name":"pg"},"spec":{
    "schedule":"@hourly","repository":{"name":"repo"},
    "task":{"name":"postgres-backup-15","params":[{"name":"HOSTNAME","value":"mine"},{"name":"extra","value":"bc"}]},
    "target":{"ref":{"apiVersion":"appcatalog.appscode.com/v1alpha1","kind":"AppBinding","name":"pg"}},
    "retentionPolicy":{"name":"k","keepLast":3},
    "runtimeSettings":{"container":{"env":[{"name":"RS","value":"2"}],"resources":{"limits":{"cpu":"1"}}},
                       "pod":{"nodeSelector":{"disk":"ssd"}}},
    "tempDir":{"medium":"Memory","disableCaching":true}}})"));
  REQUIRE(bc.ok());
  TaskPodRequest req;
  for (const auto& [k, v] : bc->task.params) req.params[k] = v;
  req.inputs = BackupJobInputs(*bc, "pg-1700000000", repo, nullptr, "");
  req.runtime_settings_json = bc->runtime_settings_json;
  req.temp_dir_json = bc->temp_dir_json;
  CHECK(req.inputs["ENABLE_CACHE"] == "false");
  auto pod_json = TaskPodSpecJson(task, fns.lookup(), req);
  REQUIRE(pod_json.ok());
  auto pod = Doc(*pod_json);
  CHECK(json::StringOr(pod, "restartPolicy") == "Never");
  CHECK(json::StringOr(pod, "serviceAccountName") == "stash-v1beta1");
  CHECK(json::StringAt(pod, "/nodeSelector/disk") == "ssd");
  auto init = json::ArrayAt(pod, "/initContainers");
  auto main = json::ArrayAt(pod, "/containers");
  REQUIRE(init.size() == 1);
  REQUIRE(main.size() == 1);
  CHECK(json::StringOr(*init[0], "name") == "postgres-backup-15-0");
  CHECK(json::StringOr(*main[0], "name") == "update-status-1");
  CHECK(json::StringOr(*init[0], "image") == "stash/postgres-stash:15");
  CHECK(json::StringOr(*init[0], "imagePullPolicy") == "IfNotPresent");
  // Implicit inputs win over the BC's params (HOSTNAME) and the step's
  // (NAMESPACE); the BC's params are inputs too, so they win over the
  // step's (extra); outputDir is /tmp/output when no step param sets it.
  CHECK(ArgsOf(*init[0]) == std::vector<std::string>{"backup-pg", "--provider=gcs", "--hostname=host-0",
                                                     "--retention-keep-last=3", "--extra=bc", "--out=/tmp/output",
                                                     "--ns=demo"});
  CHECK(ArgsOf(*main[0]) == std::vector<std::string>{"update-status", "--namespace=demo",
                                                     "--backup-session=pg-1700000000", "--output-dir=/tmp/output"});
  // tmp-dir everywhere, env NAMESPACE from the downward API, runtime settings on top.
  CHECK(json::StringAt(*init[0], "/volumeMounts/0/name") == "tmp-dir");
  CHECK(json::StringAt(*init[0], "/volumeMounts/0/mountPath") == "/tmp");
  CHECK(json::StringAt(*init[0], "/resources/limits/cpu") == "1");
  std::vector<std::string> env;
  for (const auto* e : json::ArrayAt(*init[0], "/env")) env.push_back(json::StringOr(*e, "name"));
  CHECK(env == std::vector<std::string>{"FN", "RS", "NAMESPACE"});
  CHECK(json::StringAt(*main[0], "/env/1/valueFrom/fieldRef/fieldPath") == "metadata.namespace");
  auto volumes = json::ArrayAt(pod, "/volumes");
  REQUIRE(volumes.size() == 2);
  CHECK(json::StringAt(*volumes[0], "/secret/secretName") == "repo-secret");
  CHECK(json::StringOr(*volumes[1], "name") == "tmp-dir");
  CHECK(json::StringAt(*volumes[1], "/emptyDir/medium") == "Memory");
}

TEST_CASE("a local backend's volume in every container of the Job") {
  Functions fns;
  TaskPodRequest req;
  req.inputs = {{"NAMESPACE", "demo"}, {"REPOSITORY_SECRET_NAME", "s"}, {"BACKUP_SESSION", "b"}};
  req.local_backend_json = R"({"mountPath":"/safe","subPath":"repo","hostPath":{"path":"/backups"}})";
  auto task = Doc(kTask);
  auto r = TaskPodSpecJson(task, fns.lookup(), req);
  REQUIRE(r.ok());
  auto pod = Doc(*r);
  for (const char* c : {"/initContainers/0", "/containers/0"}) {
    CAPTURE(c);
    const auto* container = json::At(pod, c);
    REQUIRE(container);
    bool found = false;
    for (const auto* m : json::ArrayAt(*container, "/volumeMounts")) {
      if (json::StringOr(*m, "name") != "stash-local") continue;
      found = true;
      CHECK(json::StringOr(*m, "mountPath") == "/safe");
      CHECK(json::StringOr(*m, "subPath") == "repo");
    }
    CHECK(found);
  }
  auto volumes = json::ArrayAt(pod, "/volumes");
  REQUIRE(volumes.size() == 3);
  CHECK(json::StringOr(*volumes[2], "name") == "stash-local");
  CHECK(json::StringAt(*volumes[2], "/hostPath/path") == "/backups");
  CHECK_FALSE(json::At(*volumes[2], "/mountPath"));
}

TEST_CASE("a Task's bad input: no steps, a missing Function, a variable without a value") {
  Functions fns;
  TaskPodRequest req;
  req.inputs = {{"REPOSITORY_SECRET_NAME", "s"}};
  auto empty = Doc(R"({"metadata":{"name":"t0"},"spec":{"steps":[]}})");
  auto r = TaskPodSpecJson(empty, fns.lookup(), req);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() == "empty steps/containers for Task t0");

  auto missing = Doc(R"({"metadata":{"name":"t1"},"spec":{"steps":[{"name":"no-such-fn"}]}})");
  r = TaskPodSpecJson(missing, fns.lookup(), req);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message().find("Function no-such-fn not found") != std::string::npos);
  CHECK(r.error().message().find("t1") != std::string::npos);

  // postgres-backup-15 uses ${NAMESPACE} without a default.
  auto task = Doc(R"({"metadata":{"name":"t2"},"spec":{"steps":[{"name":"postgres-backup-15"}]}})");
  r = TaskPodSpecJson(task, fns.lookup(), req);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() ==
        "can't resolve Function postgres-backup-15 for Task t2: variable NAMESPACE has no value and no default");

  // A Task's own volumes use the inputs too.
  auto vol = Doc(R"({"metadata":{"name":"t3"},"spec":{"steps":[{"name":"update-status"}],
    "volumes":[{"name":"x","secret":{"secretName":"${NOPE}"}}]}})");
  r = TaskPodSpecJson(vol, fns.lookup(), req);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message().find("Task t3") != std::string::npos);
  CHECK(r.error().message().find("NOPE") != std::string::npos);
}

TEST_CASE("restore inputs: the rule for host-0") {
  auto rs = ParseRestoreSession(Doc(R"({"metadata":{"namespace":"demo","name":"r1"},"spec":{
    "repository":{"name":"repo"},"task":{"name":"pg-restore"},
    "target":{"ref":{"kind":"AppBinding","name":"pg"}},
    "rules":[{"targetHosts":["host-3"],"paths":["/x"]},{"sourceHost":"host-1","snapshots":["abc","def"]}]}})"));
  REQUIRE(rs.ok());
  auto repo = Doc(kRepository);
  auto in = RestoreJobInputs(*rs, repo, nullptr, "http://pgw:56789");
  CHECK(in["RESTORE_SESSION"] == "r1");
  CHECK(in["HOSTNAME"] == "host-0");
  CHECK(in["SOURCE_HOSTNAME"] == "host-1");
  CHECK(in["RESTORE_SNAPSHOTS"] == "abc,def");
  CHECK(in.count("RESTORE_PATHS") == 0);
  CHECK(in["TARGET_APP_REPLICAS"] == "1");
  CHECK(in["PROMETHEUS_PUSHGATEWAY_URL"] == "http://pgw:56789");
  CHECK(in.count("BACKUP_SESSION") == 0);
}

}  // namespace
}  // namespace stash
