#!/usr/bin/env bash
# The real kubectl (1.32) against `stash apiserver` in standalone mode:
# repositories made by stash and by restic, served from a folder of
# manifests; get (-n, -A, -o wide/yaml/json, -l, --field-selector, by
# name), delete (one, --all, --dry-run=server) checked against the snapshot
# files and restic, get -w seeing a backup appear and a deleted one go,
# api-resources, explain; then bad and hostile requests, each answered with
# a Status or dropped while the server keeps serving.
source "$(dirname "$0")/lib.sh"
KUBECTL=${KUBECTL:-kubectl}
command -v "$KUBECTL" > /dev/null || { echo "SKIP: kubectl is not installed"; exit 77; }
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  jobs -p | xargs -r kill 2>/dev/null
  chmod -R u+w "$WORK" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
export HOME=$WORK/home KUBECONFIG=$WORK/kubeconfig
data=$WORK/data manifests=$WORK/manifests
mkdir -p "$HOME" "$manifests" "$WORK/src"
echo "some data" > "$WORK/src/file"
k() { "$KUBECTL" --request-timeout=30s "$@"; }

# --- Repositories: stash-made, restic-made, broken, hung, and one in a namespace being deleted ---
app=$data/deployment/app db=$data/statefulset/db-0 web=$data/team/web
$STASH -q -r "$app" init
$STASH -q -r "$app" backup "$WORK/src" --host web-1
$STASH -q -r "$app" backup "$WORK/src" --host web-2 --tag nightly
$RESTIC -q -r "$db" init
$RESTIC -q -r "$db" backup "$WORK/src" --host db-0
$STASH -q -r "$web" init
$STASH -q -r "$web" backup "$WORK/src" --host web
$STASH -q -r "$web" backup "$WORK/src" --host web
cp -r "$app" "$data/leaving"
# A repository whose config never answers: reading it blocks forever, as on a hung mount.
cp -r "$web" "$data/hung" && rm -f "$data/hung/config" && mkfifo "$data/hung/config"

secret() {  # NAMESPACE NAME PASSWORD
  printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: %s}\ndata:\n  RESTIC_PASSWORD: %s\n---\n' \
    "$2" "$1" "$(printf %s "$3" | base64)"
}
repository() {  # NAMESPACE NAME SECRET SUBPATH [LABELS]
  cat <<EOF
apiVersion: stash.appscode.com/v1alpha1
kind: Repository
metadata:
  name: $2
  namespace: $1
  labels: {${5:-}}
spec:
  backend:
    storageSecretName: $3
    local:
      mountPath: /safe/data
      hostPath: {path: $data}
      subPath: $4
---
EOF
}
{
  secret demo local-secret "$RESTIC_PASSWORD"
  repository demo deployment.app local-secret deployment/app "restic: app, workload-kind: Deployment, workload-name: app"
  repository demo statefulset.db-0 local-secret statefulset/db-0 "workload-kind: StatefulSet, pod-name: db-0"
} > "$manifests/demo.yaml"
{
  echo '{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "team"},'
  echo ' "stringData": {"RESTIC_PASSWORD": "'"$RESTIC_PASSWORD"'"}}'
} > "$manifests/team-secret.json"
{
  repository team web s team/web
  secret broken wrong "not-the-password"
  repository broken bad-password wrong deployment/app
  secret slow s "$RESTIC_PASSWORD"
  repository slow hung s hung
  printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: leaving}\nstatus: {phase: Terminating}\n---\n'
  secret leaving s "$RESTIC_PASSWORD"
  repository leaving app s leaving
} > "$manifests/more.yml"

# --- Our own client CA (--client-ca-file): a reader and the namespace controller ---
pki=$WORK/pki && mkdir -p "$pki"
issue() {  # NAME SUBJECT CA-NAME
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/$1-key.pem" \
    -subj "$2" -out "$pki/$1.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' > "$pki/ext"
  openssl x509 -req -in "$pki/$1.csr" -CA "$pki/$3.pem" -CAkey "$pki/$3-key.pem" -CAcreateserial \
    -days 1 -extfile "$pki/ext" -out "$pki/$1.pem" 2>/dev/null
}
for ca in ca rogue-ca; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/$ca-key.pem" \
    -subj "/CN=$ca" -days 1 -out "$pki/$ca.pem" 2>/dev/null
done
issue viewer "/CN=viewer" ca
issue controller "/O=system:masters/CN=system:serviceaccount:kube-system:namespace-controller" ca
issue rogue "/O=system:masters/CN=rogue" rogue-ca

# --- Start the server on a free port (it writes the port into the kubeconfig) ---
$STASH apiserver --standalone-manifests "$manifests" --standalone-kubeconfig "$KUBECONFIG" \
  --bind-address 127.0.0.1 --secure-port 0 --snapshot-refresh-interval 500ms --backend-timeout 2s \
  --read-timeout 3s --client-ca-file "$pki/ca.pem" > "$WORK/server.log" 2>&1 &
server_pid=$!
wait_until 30 test -s "$KUBECONFIG" || { cat "$WORK/server.log"; fail "the server wrote no kubeconfig"; }
server=$(sed -n 's/^ *server: "\(.*\)"$/\1/p' "$KUBECONFIG")
port=${server##*:}
# Client credentials for curl, from the kubeconfig.
python3 - "$KUBECONFIG" "$WORK" <<'PY'
import base64, re, sys
text = open(sys.argv[1]).read()
for key, name in (("certificate-authority-data", "ca.pem"), ("client-certificate-data", "admin.pem"),
                  ("client-key-data", "admin-key.pem")):
    value = re.search(key + r": (\S+)", text).group(1)
    open(f"{sys.argv[2]}/{name}", "wb").write(base64.b64decode(value))
PY
curl_() { curl -sS --max-time 20 --cacert "$WORK/ca.pem" "$@"; }
admin=(--cert "$WORK/admin.pem" --key "$WORK/admin-key.pem")
healthy() { [ "$(curl_ "$server/healthz" 2>/dev/null)" = ok ]; }
wait_until 30 healthy || { cat "$WORK/server.log"; fail "the server did not become healthy"; }
pass "server up on $server"

source "$HERE/kubectl_checks.sh"
