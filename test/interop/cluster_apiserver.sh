#!/usr/bin/env bash
# `stash apiserver` in a real cluster: a real etcd, kube-apiserver and
# kube-controller-manager (test/controlplane), kubectl 1.37 through the
# aggregator. Repositories and Secrets come from the API (created, changed
# and deleted with kubectl while the server runs); the server registers its
# APIService, which turns Available; callers are checked through TokenReview
# and SubjectAccessReview (cluster admin, a user allowed only get/list in one
# namespace, anonymous); a broken Repository leaves the others listed with a
# Warning; a restart brings the APIService back; two replicas share one
# serving certificate; deleting a namespace keeps every repository file.
source "$(dirname "$0")/lib.sh"
source "$HERE/../controlplane/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (the control plane test setup)"; exit 77; }
command -v "$RESTIC" >/dev/null || { echo "SKIP: restic is not installed"; exit 77; }

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  cp_stop || true
  rm -rf "$WORK" || true
}
cp_start "$WORK/cp" --controllers || { echo "FAIL: the control plane did not start"; exit 1; }
trap cleanup EXIT
k() { "$KUBECTL" --request-timeout=60s "$@"; }

# --- Repositories in storage, made by restic and by stash ---
data=$WORK/data
mkdir -p "$WORK/src" && echo "cluster data" > "$WORK/src/file"
$STASH -q -r "$data/app" init
$STASH -q -r "$data/app" backup "$WORK/src" --host web-1
$STASH -q -r "$data/app" backup "$WORK/src" --host web-2 --tag nightly
$RESTIC -q -r "$data/db" init
$RESTIC -q -r "$data/db" backup "$WORK/src" --host db-0
cp -r "$data/app" "$data/leaving"

repository() {  # NAMESPACE NAME SECRET SUBPATH [LABELS]
  cat <<EOF
apiVersion: stash.appscode.com/v1alpha1
kind: Repository
metadata: {name: $2, namespace: $1, labels: {${5:-}}}
spec:
  backend:
    storageSecretName: $3
    local: {mountPath: /safe/data, hostPath: {path: $data}, subPath: $4}
EOF
}
secret() {  # NAMESPACE NAME PASSWORD
  k -n "$1" create secret generic "$2" --from-literal=RESTIC_PASSWORD="$3" >/dev/null
}

k apply -f "$HERE/../../manifests/00-namespace.yaml" >/dev/null
for f in "$HERE"/../../manifests/01-crd-*.yaml; do k apply -f "$f" >/dev/null; done
k wait --for condition=established --timeout=60s crd/repositories.stash.appscode.com >/dev/null
for ns in demo other leaving; do k create namespace "$ns" >/dev/null; done
secret demo app-pass "$RESTIC_PASSWORD"
secret other db-pass "$RESTIC_PASSWORD"
secret leaving leave-pass "$RESTIC_PASSWORD"
repository demo app app-pass app "workload-kind: Deployment" | k apply -f - >/dev/null
repository other db db-pass db "workload-kind: StatefulSet" | k apply -f - >/dev/null
repository leaving old leave-pass leaving | k apply -f - >/dev/null
pass "Repositories and Secrets created with kubectl"

# --- The server, outside a pod, as the manifests' service account (so their RBAC is what is tested);
# an ExternalName Service is how the aggregator reaches a local process ---
k apply -f "$HERE/../../manifests/02-rbac.yaml" >/dev/null
sa_kubeconfig=$WORK/stash-apiserver.kubeconfig
cp_token_kubeconfig stash stash-apiserver "$sa_kubeconfig"
# Bad kubeconfigs: one clear line and exit 1, at once.
bad=$WORK/bad.kubeconfig
cp_kubeconfig_with_token "$bad" not-a-valid-token
if out=$(timeout 60 "$STASH" apiserver --kubeconfig "$bad" --secure-port 0 2>&1); then fail "a refused token was accepted"; fi
grep -q "Fatal: cluster https://127.0.0.1:[0-9]*: .*401 Unauthorized" <<<"$out" || fail "refused token: $out"
cp_kubeconfig_with_token "$bad" any-token https://127.0.0.1:1
if out=$(timeout 60 "$STASH" apiserver --kubeconfig "$bad" --secure-port 0 2>&1); then fail "an unreachable cluster was accepted"; fi
grep -q "Fatal: cluster https://127.0.0.1:1: .*Connection refused" <<<"$out" || fail "unreachable cluster: $out"
printf 'clusters: [\n' > "$bad"
if out=$("$STASH" apiserver --kubeconfig "$bad" 2>&1); then fail "a malformed kubeconfig was accepted"; fi
grep -q "Fatal: kubeconfig $bad: " <<<"$out" || fail "malformed kubeconfig: $out"
pass "a refused token, an unreachable cluster and a malformed kubeconfig: one Fatal line each"

start_server() {  # PORT LOGFILE
  "$STASH" apiserver --kubeconfig "$sa_kubeconfig" --bind-address 127.0.0.1 --secure-port "$1" \
    --apiservice-service "stash/stash-apiserver:$port" --snapshot-refresh-interval 500ms \
    --prune-delay 1s > "$2" 2>&1 &
  pids+=($!)
}
port=$(_cp_free_port)
k -n stash create service externalname stash-apiserver --external-name localhost --tcp="$port:$port" >/dev/null
start_server "$port" "$WORK/server.log"
server_pid=${pids[-1]}
wait_until 60 grep -q "Registered APIService" "$WORK/server.log" || { cat "$WORK/server.log"; fail "no APIService registered"; }
k wait --for=condition=Available --timeout=90s apiservice/v1alpha1.repositories.stash.appscode.com >/dev/null ||
  { k get apiservice v1alpha1.repositories.stash.appscode.com -o yaml; cat "$WORK/server.log"; fail "APIService not Available"; }
ca=$(k get apiservice v1alpha1.repositories.stash.appscode.com -o jsonpath='{.spec.caBundle}')
stored=$(k -n stash get secret stash-apiserver-cert -o jsonpath='{.data.ca\.crt}')
[ -n "$ca" ] && [ "$ca" = "$stored" ] || fail "the APIService caBundle is not the stored serving CA"
pass "APIService registered with the serving CA and Available"

# --- Cluster admin through the aggregator ---
out=$(k get snapshots -n demo)
[ "$(grep -c '^app-' <<<"$out")" = 2 ] || fail "kubectl get snapshots -n demo: $out"
out=$(k get snapshots -A -o wide)
grep -q "^other .*db-" <<<"$out" && grep -q "web-2" <<<"$out" || fail "get -A -o wide: $out"
out=$(k get snapshots -A -l workload-kind=StatefulSet -o name)
[ "$(wc -l <<<"$out")" = 1 ] && grep -q "snapshot.repositories.stash.appscode.com/db-" <<<"$out" || fail "-l: $out"
out=$(k get snapshots -n demo --field-selector spec.hostname=web-2 -o yaml 2>&1 || true)
if grep -q "web-2" <<<"$out"; then pass "field selector"; else
  out=$(k get snapshots -n demo -l hostname=web-2 -o yaml)
  grep -q "hostname: web-2" <<<"$out" || fail "-o yaml by host: $out"
fi
pass "get: -n, -A, -o wide, -l, -o yaml through kube-apiserver"
# kubectl 1.32 (the machine's) against the same cluster
if [ -x /usr/bin/kubectl ]; then
  out=$(/usr/bin/kubectl --request-timeout=60s get snapshots -A -o wide 2>&1)
  grep -q "^demo .*app-" <<<"$out" || fail "kubectl $(/usr/bin/kubectl version --client -o json | grep -o '"gitVersion": "[^"]*"'): $out"
  client=$(/usr/bin/kubectl version --client 2>/dev/null) || true
  pass "the machine's kubectl ($(head -n 1 <<< "$client")) lists through the aggregator"
fi

# watch: a new backup shows up as a row (once the first rows show, the watch is open)
k get snapshots -n demo --watch > "$WORK/watch.out" 2>&1 &
watcher=$!
pids+=($watcher)
wait_until 60 grep -q "^app-" "$WORK/watch.out" || fail "the watch printed no rows"
$STASH -q -r "$data/app" backup "$WORK/src" --host web-3
wait_until 60 grep -q "web-3" "$WORK/watch.out" || { cat "$WORK/watch.out"; fail "watch did not show the new snapshot"; }
kill "$watcher" 2>/dev/null
pass "get --watch shows a new backup"

# delete one snapshot: its file goes, restic agrees
victim=$(k get snapshots -n demo -l hostname=web-1 -o jsonpath='{.items[0].metadata.name}')
id=$(k get snapshot -n demo "$victim" -o jsonpath='{.metadata.uid}')
k delete snapshot -n demo "$victim" >/dev/null
[ ! -e "$data/app/snapshots/$id" ] || fail "snapshot file $id still there"
out=$(k get snapshots -n demo -o name)
! grep -q "$victim" <<<"$out" || fail "deleted snapshot still listed"
pass "delete snapshot removed snapshots/$id"

# --- Repositories and Secrets change while the server runs ---
cp -r "$data/app" "$data/late"
repository demo late app-pass late | k apply -f - >/dev/null
wait_until 30 bash -c "'$KUBECTL' get snapshots -n demo -o name | grep -q late-" || fail "a new Repository did not show up"
k -n demo delete repository late >/dev/null
wait_until 30 bash -c "! '$KUBECTL' get snapshots -n demo -o name | grep -q late-" || fail "a deleted Repository is still listed"
pass "Repositories created and deleted with kubectl show in the next list"

# a wrong password (a rotated Secret) and a missing Secret: the others stay listed, kubectl prints a Warning
k -n other create secret generic db-pass --from-literal=RESTIC_PASSWORD=wrong --dry-run=client -o yaml | k apply -f - >/dev/null
repository demo nosecret missing app | k apply -f - >/dev/null
wait_until 30 bash -c "'$KUBECTL' get snapshots -A 2>&1 | grep -q 'Warning:.*other/db'" || fail "no Warning for the wrong password"
out=$(k get snapshots -A 2>&1)
grep -q "Warning:.*demo/nosecret" <<<"$out" || fail "no Warning for the missing Secret: $out"
grep -q "^demo .*app-" <<<"$out" || fail "the healthy repository was not listed: $out"
secret_fix=$(k -n other create secret generic db-pass --from-literal=RESTIC_PASSWORD="$RESTIC_PASSWORD" --dry-run=client -o yaml)
k apply -f - <<<"$secret_fix" >/dev/null
k -n demo delete repository nosecret >/dev/null
wait_until 30 bash -c "'$KUBECTL' get snapshots -n other 2>&1 | grep -q '^db-'" || fail "the fixed Secret was not picked up"
pass "a wrong password and a missing Secret are Warnings; the rotated Secret is picked up"

# --- A user allowed only get/list on snapshots in demo ---
_cp_cert viewer ca "/CN=viewer"
_cp_kubeconfig "$WORK/cp/viewer.kubeconfig" viewer
k -n demo create role snap-reader --verb=get,list --resource=snapshots.repositories.stash.appscode.com >/dev/null
k -n demo create rolebinding snap-reader --role=snap-reader --user=viewer >/dev/null
kv() { "$KUBECTL" --kubeconfig "$WORK/cp/viewer.kubeconfig" --request-timeout=60s "$@"; }
wait_until 30 bash -c "'$KUBECTL' --kubeconfig '$WORK/cp/viewer.kubeconfig' get snapshots -n demo >/dev/null 2>&1" ||
  fail "viewer cannot list in demo"
name=$(kv get snapshots -n demo -o jsonpath='{.items[0].metadata.name}')
out=$(kv delete snapshot -n demo "$name" 2>&1 || true)
grep -q "Forbidden\|forbidden" <<<"$out" || fail "viewer delete: $out"
out=$(kv get snapshots -n other 2>&1 || true)
grep -q "forbidden" <<<"$out" || fail "viewer in another namespace: $out"
pass "RBAC: list allowed in one namespace; delete and other namespaces Forbidden"

# anonymous, straight to the server: 401
code=$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/apis/repositories.stash.appscode.com/v1alpha1/snapshots")
[ "$code" = 401 ] || fail "anonymous request answered $code"
pass "anonymous request: 401"

# --- A second replica shares the certificate and answers lists ---
port2=$(_cp_free_port)
start_server "$port2" "$WORK/server2.log"
wait_until 60 grep -q "Serving" "$WORK/server2.log" || { cat "$WORK/server2.log"; fail "replica 2 did not start"; }
direct=$WORK/direct.kubeconfig
sed "s|server: .*|server: https://127.0.0.1:$port2|; s|certificate-authority: .*|certificate-authority: $WORK/apiserver-ca.crt|" \
  "$KUBECONFIG" > "$direct"
k -n stash get secret stash-apiserver-cert -o jsonpath='{.data.ca\.crt}' | base64 -d > "$WORK/apiserver-ca.crt"
out=$("$KUBECTL" --kubeconfig "$direct" get --raw /apis/repositories.stash.appscode.com/v1alpha1/namespaces/demo/snapshots)
grep -q '"kind":"SnapshotList"' <<<"$out" && grep -q "web-2" <<<"$out" || fail "replica 2 list: ${out:0:300}"
pass "a second replica with the same certificate answers lists"

# --- Restart: the APIService comes back ---
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
wait_until 60 bash -c "! '$KUBECTL' get snapshots -n demo >/dev/null 2>&1" || fail "the APIService stayed up with no server"
start_server "$port" "$WORK/server3.log"
k wait --for=condition=Available --timeout=90s apiservice/v1alpha1.repositories.stash.appscode.com >/dev/null ||
  fail "APIService not Available after a restart"
wait_until 60 bash -c "'$KUBECTL' get snapshots -n demo 2>/dev/null | grep -q '^app-'" || fail "no list after restart"
pass "after a restart the APIService is Available again"

# --- Deleting a namespace keeps its backups ---
before=$(cd "$data/leaving" && find . -type f -exec sha256sum {} + | sort)
k delete namespace leaving --timeout=180s >/dev/null || fail "namespace leaving did not finish deleting"
out=$(k get namespace leaving 2>&1 || true)
grep -q "NotFound\|not found" <<<"$out" || fail "namespace still there: $out"
after=$(cd "$data/leaving" && find . -type f -exec sha256sum {} + | sort)
[ "$before" = "$after" ] || fail "repository files changed by the namespace deletion"
$RESTIC -q -r "$data/leaving" check --read-data >/dev/null || fail "restic check after the namespace deletion"
pass "namespace deleted; every repository file is still there byte for byte; restic check passes"
$RESTIC -q -r "$data/app" check --read-data >/dev/null || fail "restic check of the served repository"
echo "cluster apiserver: all checks passed"
