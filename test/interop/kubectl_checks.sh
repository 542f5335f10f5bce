# The checks of kubectl.sh, sourced once its server runs: $server, $port,
# curl_ and admin are set there.

# snapshot_name REPO-DIR REPO-NAME HOST: the object name of HOST's snapshot.
snapshot_name() {
  $RESTIC --no-lock -r "$1" snapshots --json | python3 -c '
import json, sys
hits = [s for s in json.load(sys.stdin) if s["hostname"] == sys.argv[2]]
print(sys.argv[1] + "-" + hits[-1]["id"][:8])' "$2" "$3"
}
has() { grep -qE -- "$1" "$2" || { cat "$2"; fail "${3:-$2} lacks /$1/"; }; }
lacks() { ! grep -qE -- "$1" "$2" || { cat "$2"; fail "${3:-$2} has /$1/"; }; }
rows() { grep -vc '^NAME\|^NAMESPACE' "$1" || true; }

web1=$(snapshot_name "$app" deployment.app web-1)
web2=$(snapshot_name "$app" deployment.app web-2)
db0=$(snapshot_name "$db" statefulset.db-0 db-0)

# --- get ---
k get snapshots -n demo > "$WORK/get.txt"
has '^NAME +REPOSITORY +HOSTNAME +AGE$' "$WORK/get.txt"
has "^$web1 +deployment.app +web-1 +[0-9]+s$" "$WORK/get.txt"
has "^$db0 +statefulset.db-0 +db-0 " "$WORK/get.txt"
[ "$(rows "$WORK/get.txt")" = 3 ] || fail "get -n demo: expected 3 rows"
pass "get snapshots -n demo"

start=$(date +%s%N)
k get snapshots -A > "$WORK/all.txt" 2> "$WORK/all.err"
took=$(( ($(date +%s%N) - start) / 1000000 ))
has '^NAMESPACE +NAME +REPOSITORY' "$WORK/all.txt"
has '^team +web-' "$WORK/all.txt"
[ "$(rows "$WORK/all.txt")" = 5 ] || fail "get -A: expected 5 rows (not the broken, hung or leaving ones)"
has 'Warning: repository broken/bad-password' "$WORK/all.err"
has 'Warning: repository slow/hung is still loading' "$WORK/all.err"
[ "$took" -lt 8000 ] || fail "get -A took ${took}ms with a hung repository"
start=$(date +%s%N)
k get snapshots -A > /dev/null 2>&1
took=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$took" -lt 1500 ] || fail "a second get -A waited for the hung repository again (${took}ms)"
pass "get -A leaves the broken and hung repositories out with warnings (${took}ms)"

k get snapshots -n demo -o wide > "$WORK/wide.txt"
has 'PATHS +TAGS +CREATED AT' "$WORK/wide.txt"
has "^$web2 .* nightly " "$WORK/wide.txt"
k get snapshots -n demo --show-labels > "$WORK/labels.txt"
has "hostname=web-1,repository=deployment.app,restic=app" "$WORK/labels.txt"
pass "get -o wide, --show-labels"

k get snapshot -n demo "$web1" -o yaml > "$WORK/one.yaml"
$RESTIC --no-lock -r "$app" snapshots --json > "$WORK/restic.json"
python3 - "$WORK/one.yaml" "$WORK/restic.json" "$web1" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
snap = [s for s in json.load(open(sys.argv[2])) if s["hostname"] == "web-1"][0]
def field(name):
    m = re.search(r"^\s*" + name + r": (.*)$", text, re.M)
    return m.group(1).strip().strip('"') if m else None
assert field("kind") == "Snapshot", text
assert field("apiVersion") == "repositories.stash.appscode.com/v1alpha1", text
assert field("name") == sys.argv[3] and field("namespace") == "demo", text
assert field("uid") == snap["id"], (field("uid"), snap["id"])
assert field("tree") == snap["tree"], text
assert field("creationTimestamp") == snap["time"][:19] + "Z", (field("creationTimestamp"), snap["time"])
assert field("hostname") == "web-1" and field("username") == snap["username"], text
assert field("repository") == "deployment.app" and field("workload-kind") == "Deployment", text
print("ok: get -o yaml matches restic's snapshot")
PY
k get snapshots -A -o json > "$WORK/list.json" 2>/dev/null
python3 - "$WORK/list.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["kind"] == "List" or doc["kind"] == "SnapshotList", doc["kind"]
names = sorted(i["metadata"]["name"] for i in doc["items"])
assert len(names) == 5, names
for i in doc["items"]:
    assert i["metadata"]["name"] == i["metadata"]["labels"]["repository"] + "-" + i["metadata"]["uid"][:8]
    assert set(i["status"]) <= {"tree", "paths", "hostname", "username", "uid", "gid", "tags"}, i["status"]
print("ok: get -A -o json")
PY
k get snapshot -n demo "$db0" > "$WORK/byname.txt"
[ "$(rows "$WORK/byname.txt")" = 1 ] || fail "get by name"
names=$(k get snapshots -n demo -o name)
grep -qx "snapshot.repositories.stash.appscode.com/$web1" <<< "$names" || fail "-o name"
if k get snapshot -n demo nope > "$WORK/nope.txt" 2>&1; then fail "get nope succeeded"; fi
has 'Error from server \(NotFound\): snapshots.repositories.stash.appscode.com "nope" not found' "$WORK/nope.txt"
pass "get by name, -o name, NotFound"

# --- selectors ---
count() { k get snapshots "$@" --no-headers 2>/dev/null | wc -l; }
[ "$(count -n demo -l repository=statefulset.db-0)" = 1 ] || fail "-l repository="
[ "$(count -n demo -l 'hostname in (web-1,db-0)')" = 2 ] || fail "-l in"
[ "$(count -n demo -l 'hostname notin (web-1)')" = 2 ] || fail "-l notin"
[ "$(count -n demo -l hostname!=web-1)" = 2 ] || fail "-l !="
[ "$(count -n demo -l hostname==web-2)" = 1 ] || fail "-l =="
[ "$(count -n demo -l restic)" = 2 ] || fail "-l exists"
[ "$(count -n demo -l '!restic')" = 1 ] || fail "-l !key"
[ "$(count -n demo -l 'workload-kind=Deployment,hostname=web-2')" = 1 ] || fail "-l a,b"
[ "$(count -n demo --field-selector metadata.name="$web1")" = 1 ] || fail "--field-selector name"
[ "$(count -A --field-selector metadata.namespace=team)" = 2 ] || fail "--field-selector namespace"
[ "$(count -A --field-selector metadata.namespace!=team)" = 3 ] || fail "--field-selector !="
[ "$(count -A --chunk-size=1)" = 5 ] || fail "--chunk-size=1"
if k get snapshots -n demo -l 'hostname in (' > "$WORK/badsel.txt" 2>&1; then fail "bad selector accepted"; fi
if k get snapshots -n demo --field-selector spec.x=1 > "$WORK/badfield.txt" 2>&1; then fail "bad field accepted"; fi
has '"spec.x" is not a known field selector' "$WORK/badfield.txt"
pass "label and field selectors, paging"

# --- discovery ---
k api-resources -o wide > "$WORK/resources.txt"
has '^snapshots +repositories.stash.appscode.com/v1alpha1 +true +Snapshot +delete,deletecollection,get,list,watch +storage,appscode,all' \
  "$WORK/resources.txt"
names=$(k api-resources --api-group=repositories.stash.appscode.com --namespaced -o name)
grep -qx snapshots.repositories.stash.appscode.com <<< "$names" || fail "api-resources -o name"
listed=$(k get storage -n demo --no-headers)
grep -q "$web1" <<< "$listed" || fail "get by category"
k explain snapshot > "$WORK/explain.txt"
has '^KIND: +Snapshot' "$WORK/explain.txt"
has 'status' "$WORK/explain.txt"
k explain snapshot.status --recursive > "$WORK/explain-status.txt"
has 'hostname' "$WORK/explain-status.txt"
has 'tree' "$WORK/explain-status.txt"
pass "api-resources, categories, explain"

# --- create, apply, replace: kubectl validates against our OpenAPI v2 (protobuf), the server refuses ---
k get snapshot -n demo "$web2" -o yaml > "$WORK/existing.yaml"
sed "s/^  name: .*/  name: deployment.app-00000000/" "$WORK/existing.yaml" > "$WORK/new.yaml"
for verb in create apply replace; do
  for f in new existing; do
    if k "$verb" -f "$WORK/$f.yaml" > "$WORK/$verb-$f.txt" 2>&1; then fail "$verb -f $f.yaml succeeded"; fi
    lacks 'openapi|validat' "$WORK/$verb-$f.txt"
  done
done
refused() {  # FILE ACTION VERB
  has '^Error from server \(MethodNotAllowed\): ' "$1"
  has "error when $2 \"[^\"]*\": snapshots are created by backups; $3 is not supported$" "$1"
}
refused "$WORK/create-new.txt" creating create
refused "$WORK/create-existing.txt" creating create
refused "$WORK/apply-new.txt" creating create
refused "$WORK/apply-existing.txt" patching patch
refused "$WORK/replace-new.txt" replacing update
refused "$WORK/replace-existing.txt" replacing update
# The schema kubectl validated against is ours: an unknown field is caught before any request.
sed 's/^status:$/status:\n  bogus: 1/' "$WORK/new.yaml" > "$WORK/bogus.yaml"
if k create -f "$WORK/bogus.yaml" > "$WORK/bogus.txt" 2>&1; then fail "create of an invalid manifest succeeded"; fi
has 'unknown field "bogus" in com.appscode.stash.repositories.v1alpha1.Snapshot.status' "$WORK/bogus.txt"
k explain snapshot.status --output=plaintext-openapiv2 > "$WORK/explain-v2.txt"
has '^KIND: +Snapshot' "$WORK/explain-v2.txt"
has '^ +hostname\s+<string>' "$WORK/explain-v2.txt"
pass "create, apply and replace: validated by kubectl, refused with 405 MethodNotAllowed naming why"

# --- version: the project's version in Kubernetes' shape ---
stash_version=$($STASH version)
read -r _ stash_version _ <<< "$stash_version"
k version > "$WORK/version.txt" 2> "$WORK/version.err"
has "^Server Version: v$stash_version$" "$WORK/version.txt"
k version -o json > "$WORK/version.json" 2> "$WORK/version.err"
python3 - "$WORK/version.json" "$stash_version" <<'PY'
import json, sys
server = json.load(open(sys.argv[1]))["serverVersion"]
major, minor = sys.argv[2].split(".")[:2]
assert server["gitVersion"] == "v" + sys.argv[2], server
assert (server["major"], server["minor"]) == (major, minor), server
assert server["platform"].startswith("linux/") and server["compiler"], server
print("ok: version -o json")
PY
pass "kubectl version shows v$stash_version"

# --- watch: a backup appears, a forgotten snapshot goes ---
k get snapshots -n demo -w --output-watch-events > "$WORK/watch.txt" 2>&1 &
watcher=$!
# Changes made once the watch request is in show up as events, not in the initial list.
watching() { grep -q '"GET /apis/[^ ]*/namespaces/demo/snapshots?[^ ]*watch=true' "$WORK/server.log"; }
wait_until 30 watching || { cat "$WORK/watch.txt"; fail "kubectl get -w never started its watch"; }
$RESTIC -q -r "$db" backup "$WORK/src" --host db-1
db1=$(snapshot_name "$db" statefulset.db-0 db-1)
$RESTIC -q -r "$db" forget "${db0##*-}" > /dev/null
seen() { grep -q "DELETED .*$db0" "$WORK/watch.txt" && grep -q "ADDED .*$db1" "$WORK/watch.txt"; }
wait_until 30 seen || true  # the checks below say what is missing
kill "$watcher" 2>/dev/null || true
has "^ADDED +$db1 +statefulset.db-0 +db-1 " "$WORK/watch.txt" "get -w"
has "^DELETED +$db0 " "$WORK/watch.txt" "get -w"
[ "$(grep -c '^EVENT' "$WORK/watch.txt")" = 1 ] || { cat "$WORK/watch.txt"; fail "watch reprinted its header"; }
pass "get -w sees a restic backup appear and a forgotten snapshot go"

# --- delete ---
k delete snapshot -n demo "$web2" --dry-run=server > "$WORK/dry.txt"
# kubectl 1.37 adds "from <namespace> namespace".
has "\"$web2\" deleted (from demo namespace )?\(server dry run\)" "$WORK/dry.txt"
[ -e "$app/snapshots/$($RESTIC --no-lock -r "$app" snapshots --json | python3 -c 'import json,sys; print([s["id"] for s in json.load(sys.stdin) if s["hostname"]=="web-2"][0])')" ] ||
  fail "dry run removed the snapshot"
start=$(date +%s%N)
k delete snapshot -n demo "$web1" > "$WORK/delete.txt"
took=$(( ($(date +%s%N) - start) / 1000000 ))
has "^snapshot.repositories.stash.appscode.com \"$web1\" deleted( from demo namespace)?$" "$WORK/delete.txt"
[ "$took" -lt 5000 ] || fail "delete (with kubectl's wait) took ${took}ms"
listed=$($RESTIC --no-lock -r "$app" snapshots --json)
grep -q '"web-1"' <<< "$listed" && fail "restic still lists the deleted snapshot"
$RESTIC -r "$app" check > "$WORK/check.txt" 2>&1 || { cat "$WORK/check.txt"; fail "restic check after delete"; }
[ -z "$(ls "$app/locks")" ] || fail "delete left a lock behind"
pass "delete removes the snapshot file (${took}ms), restic check passes"
k delete snapshots --all -n team > "$WORK/delete-all.txt"
[ "$(grep -c deleted "$WORK/delete-all.txt")" = 2 ] || { cat "$WORK/delete-all.txt"; fail "delete --all"; }
[ -z "$(ls "$web/snapshots")" ] || fail "delete --all left snapshot files"
if k delete snapshot -n demo nope > "$WORK/delete-nope.txt" 2>&1; then fail "delete nope succeeded"; fi
has '\(NotFound\)' "$WORK/delete-nope.txt"
pass "delete --all, delete of a missing snapshot"

# --- a terminating namespace: listed empty, never deleted from ---
k get snapshots -n leaving > "$WORK/leaving.txt" 2>&1
has 'No resources found in leaving namespace' "$WORK/leaving.txt"
curl_ "${admin[@]}" -X DELETE "$server/apis/repositories.stash.appscode.com/v1alpha1/namespaces/leaving/snapshots" > "$WORK/dc.json"
[ "$(ls "$data/leaving/snapshots" | wc -l)" = 2 ] || fail "deletecollection in a terminating namespace touched storage"
pass "terminating namespace: empty list, storage untouched"

source "$HERE/kubectl_hostile.sh"
