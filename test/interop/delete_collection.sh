#!/usr/bin/env bash
# deletecollection of snapshots through `stash apiserver` (standalone),
# listed with the real kubectl: every matched snapshot file removed, other repositories
# and namespaces untouched, exactly one exclusive lock per repository
# (the server logs one line per repository batch, and no lock file stays),
# preconditions refused before anything is removed. The time of deleting
# 100 snapshots is printed as a figure, not asserted (speed is bench/'s).
source "$(dirname "$0")/lib.sh"
KUBECTL=${KUBECTL:-kubectl}
REPO_TOOL=${REPO_TOOL:?REPO_TOOL must point at repo_tool}
command -v "$KUBECTL" > /dev/null || { echo "SKIP: kubectl is not installed"; exit 77; }
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  chmod -R u+w "$WORK" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
export HOME=$WORK/home KUBECONFIG=$WORK/kubeconfig
data=$WORK/data manifests=$WORK/manifests
mkdir -p "$HOME" "$manifests" "$WORK/src"
echo "tiny" > "$WORK/src/file"
k() { "$KUBECTL" --request-timeout=60s "$@"; }

# --- demo/many: 100 snapshots; demo/other: 3; team/keep: 2 ---
many=$data/many other=$data/other keep=$data/keep
for r in "$many" "$other" "$keep"; do $STASH -q -r "$r" init; done
$STASH -q -r "$many" backup "$WORK/src" --host a
for i in $(seq 1 99); do printf '2024-01-01T00:%02d:%02dZ a - %s\n' $((i / 60)) $((i % 60)) "$WORK/src"; done > "$WORK/many.hist"
$REPO_TOOL add-snapshots "$many" "$RESTIC_PASSWORD" "$WORK/many.hist" > /dev/null
for i in 1 2 3; do $STASH -q -r "$other" backup "$WORK/src" --host b; done
for i in 1 2; do $STASH -q -r "$keep" backup "$WORK/src" --host c; done
count() { find "$1/snapshots" -type f | wc -l; }
[ "$(count "$many")" = 100 ] || fail "setup: demo/many has $(count "$many") snapshots, not 100"

{
  printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: demo}\nstringData: {RESTIC_PASSWORD: %s}\n---\n' "$RESTIC_PASSWORD"
  printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: team}\nstringData: {RESTIC_PASSWORD: %s}\n---\n' "$RESTIC_PASSWORD"
  for spec in demo:many team:keep demo:other; do
    ns=${spec%%:*} name=${spec##*:}
    cat <<EOT
apiVersion: stash.appscode.com/v1alpha1
kind: Repository
metadata: {name: $name, namespace: $ns}
spec:
  backend:
    storageSecretName: s
    local: {mountPath: /safe/data, hostPath: {path: $data}, subPath: $name}
---
EOT
  done
} > "$manifests/repos.yaml"

# The prunes the deletes ask for wait out the queue's 30 s window, past
# the end of the test.
$STASH apiserver --standalone-manifests "$manifests" --standalone-kubeconfig "$KUBECONFIG" \
  --bind-address 127.0.0.1 --secure-port 0 --snapshot-refresh-interval 500ms > "$WORK/server.log" 2>&1 &
server_pid=$!
wait_until 30 test -s "$KUBECONFIG" || { cat "$WORK/server.log"; fail "the server wrote no kubeconfig"; }
listed() {  # NAMESPACE EXPECTED
  local out
  out=$(k get snapshots -n "$1" --no-headers 2>/dev/null) || return 1
  [ "$(printf '%s' "$out" | grep -c .)" = "$2" ]
}
wait_until 60 listed demo 103 || { cat "$WORK/server.log"; fail "demo does not list 103 snapshots"; }
wait_until 60 listed team 2 || fail "team does not list 2 snapshots"
pass "server lists 103 snapshots in demo, 2 in team"

batch_lines() {  # REPOSITORY-KEY
  local log
  log=$(cat "$WORK/server.log")
  printf '%s\n' "$log" | grep -c "snapshots of repository $1 under one exclusive lock" || true
}

# --- deletecollection as client-go's DeleteCollection sends it (kubectl
# 1.32's `delete --all` and `-l` list and delete one by one instead) ---
python3 - "$KUBECONFIG" "$WORK" <<'PY'
import base64, re, sys
text = open(sys.argv[1]).read()
for key, name in (("certificate-authority-data", "ca.pem"), ("client-certificate-data", "admin.pem"),
                  ("client-key-data", "admin-key.pem")):
    open(f"{sys.argv[2]}/{name}", "wb").write(base64.b64decode(re.search(key + r": (\S+)", text).group(1)))
PY
server=$(sed -n 's/^ *server: "\(.*\)"$/\1/p' "$KUBECONFIG")
collection=$server/apis/repositories.stash.appscode.com/v1alpha1/namespaces/demo/snapshots
delete_collection() {  # OUTPUT QUERY [BODY]; prints the HTTP code
  curl -sS --max-time 60 --cacert "$WORK/ca.pem" --cert "$WORK/admin.pem" --key "$WORK/admin-key.pem" \
    -o "$1" -w '%{http_code}' -X DELETE -H 'Content-Type: application/json' -d "${3:-}" "$collection$2"
}
items() { python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["items"]))' "$1"; }

# --- A precondition no snapshot meets: refused, nothing removed ---
code=$(delete_collection "$WORK/pre.json" "" '{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"not-a-uid"}}')
[ "$code" = 409 ] || fail "deletecollection with a failing precondition answered $code: $(cat "$WORK/pre.json")"
[ "$(count "$many")" = 100 ] && [ "$(count "$other")" = 3 ] || fail "a refused deletecollection removed snapshots"
pass "failing precondition: 409, nothing removed"

# --- -l selects one repository's snapshots: one batch, the rest untouched ---
code=$(delete_collection "$WORK/del-b.json" "?labelSelector=hostname%3Db")
[ "$code" = 200 ] && [ "$(items "$WORK/del-b.json")" = 3 ] || fail "deletecollection -l hostname=b: $code $(cat "$WORK/del-b.json")"
[ "$(count "$other")" = 0 ] || fail "demo/other still has $(count "$other") snapshot files"
[ "$(count "$many")" = 100 ] || fail "delete -l hostname=b touched demo/many"
[ "$(batch_lines demo/other)" = 1 ] || { cat "$WORK/server.log"; fail "demo/other was not deleted in exactly one batch"; }
[ "$(batch_lines demo/many)" = 0 ] || fail "demo/many was locked by a delete that matched none of it"
pass "deletecollection -l hostname=b: 3 snapshots of demo/other in one batch"

# --- --all: 100 snapshots of one repository under one lock ---
start=$(date +%s%N)
code=$(delete_collection "$WORK/del-all.json" "")
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$code" = 200 ] || fail "deletecollection answered $code: $(cat "$WORK/del-all.json")"
[ "$(items "$WORK/del-all.json")" = 100 ] || fail "deletecollection returned $(items "$WORK/del-all.json") items, not 100"
[ "$(count "$many")" = 0 ] || fail "demo/many still has $(count "$many") snapshot files"
[ "$(batch_lines demo/many)" = 1 ] || fail "demo/many was not deleted in exactly one batch: $(batch_lines demo/many)"
locks=$(find "$many/locks" -type f | wc -l)
[ "$locks" = 0 ] || fail "demo/many has $locks lock files left"
[ "$(count "$keep")" = 2 ] && [ "$(batch_lines team/keep)" = 0 ] || fail "team/keep was touched"
out=$("$RESTIC" -r "$many" snapshots --json)
[ "$out" = "[]" ] || fail "restic still sees snapshots in demo/many: $out"
out=$("$RESTIC" -r "$keep" snapshots --json)
[ "$(printf '%s' "$out" | grep -o '"short_id"' | wc -l)" = 2 ] || fail "restic does not see team/keep's 2 snapshots"
wait_until 30 listed demo 0 || fail "demo still lists snapshots"
pass "deletecollection: 100 snapshots of demo/many in one batch, team/keep untouched"
echo "figure: deletecollection of 100 snapshots took ${ms} ms (local backend, curl included)"
