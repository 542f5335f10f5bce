#!/usr/bin/env bash
# The warm snapshot list through the real aggregator, for bench/apiserver.py
# --aggregator: a local control plane (test/controlplane: etcd and
# kube-apiserver from Go modules), `stash apiserver` registered behind it as
# the cluster-apiserver test registers it, the Repositories of MANIFEST
# applied with kubectl, then REQUESTS runs of `kubectl get --raw` of namespace
# demo's snapshot list, each a new kubectl process (a new connection to
# kube-apiserver, whose proxy reaches our server on its own connections).
#
#   bench/apiserver_aggregator.sh STASH MANIFEST EXPECTED REQUESTS
#
# MANIFEST is a JSON List of Namespace, Secret and Repository objects;
# EXPECTED the number of snapshots the list must hold before timing starts.
# After each kubectl run, the same GET with curl over a new TLS connection
# to kube-apiserver (the aggregator hop without kubectl's start-up), and a
# `kubectl get --raw /healthz` of kube-apiserver itself (what any kubectl run
# costs: its start-up and one small request). Prints one JSON line: each
# kubectl run's wall time (ms), its request's time to the response headers as
# kubectl -v=6 logs it, each curl's time_total (ms), each /healthz run's wall
# time (ms), our server's CPU seconds over all runs and the size of the list. Needs root and the
# cached control plane binaries; everything it starts stops on exit.
set -euo pipefail
stash=$1 manifest=$2 expected=$3 requests=$4
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../test/controlplane/lib.sh"
work=$(mktemp -d /tmp/stash-bench-aggregator-XXXXXX)
server=
finish() {
  [ -z "$server" ] || { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
  cp_stop || true
  rm -rf "$work"
}
cp_start "$work/cp" >&2 || { echo "bench: the control plane did not start" >&2; exit 1; }
trap finish EXIT
k() { "$KUBECTL" --request-timeout=120s "$@"; }
k apply -f "$here/../manifests/00-namespace.yaml" >/dev/null
for f in "$here"/../manifests/01-crd-*.yaml; do k apply -f "$f" >/dev/null; done
k wait --for condition=established --timeout=60s crd --all >/dev/null
k apply -f "$manifest" >/dev/null

port=$(_cp_free_port)
k -n stash create service externalname stash-apiserver --external-name localhost --tcp="$port:$port" >/dev/null
"$stash" apiserver --kubeconfig "$KUBECONFIG" --bind-address 127.0.0.1 --secure-port "$port" \
  --apiservice-service "stash/stash-apiserver:$port" --backend-timeout 120s > "$work/server.log" 2>&1 &
server=$!
for i in $(seq 600); do grep -q "Registered APIService" "$work/server.log" && break; sleep 0.1; done
k wait --for=condition=Available --timeout=120s apiservice/v1alpha1.repositories.stash.appscode.com >/dev/null ||
  { tail -20 "$work/server.log" >&2; echo "bench: the APIService did not become Available" >&2; exit 1; }
path=/apis/repositories.stash.appscode.com/v1alpha1/namespaces/demo/snapshots
for i in $(seq 600); do
  n=$(k get --raw "$path" 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))' || echo 0)
  [ "$n" = "$expected" ] && break
  sleep 0.5
done
[ "$n" = "$expected" ] || { echo "bench: the list holds $n snapshots, not $expected" >&2; exit 1; }
for i in 1 2 3; do k get --raw "$path" > "$work/list.json"; done  # warm: both servers' connections, caches
cpu() { awk '{print $14 + $15}' "/proc/$server/stat"; }
before=$(cpu)
for i in $(seq "$requests"); do
  start=$(date +%s%N)
  k -v=6 get --raw "$path" 2> "$work/v6.log" > /dev/null
  end=$(date +%s%N)
  # Until the response's headers: `"Response" ... milliseconds=35` (older kubectl: "200 OK in 35 milliseconds")
  in=$(grep -oE 'milliseconds=[0-9]+|OK in [0-9]+ milliseconds' "$work/v6.log" | tail -n 1 | grep -oE '[0-9]+' || echo -1)
  # The same list with curl, a new TLS connection to kube-apiserver each time (no kubectl start-up).
  c=$(curl -sS -o /dev/null -w '%{time_total}' --cacert "$CP_DIR/ca.crt" --cert "$CP_DIR/admin.crt"     --key "$CP_DIR/admin.key" -H 'Accept: application/json' "$CP_SERVER$path")
  # kubectl's floor: its start-up and a 2-byte answer from kube-apiserver itself.
  hstart=$(date +%s%N)
  k get --raw /healthz > /dev/null
  hend=$(date +%s%N)
  echo "$(( (end - start) / 1000 )) $in $c $(( (hend - hstart) / 1000 ))"
done > "$work/times"
after=$(cpu)
python3 - "$work/times" "$before" "$after" "$(getconf CLK_TCK)" "$(stat -c %s "$work/list.json")" <<'PY'
import json, sys
rows = [line.split() for line in open(sys.argv[1])]
print(json.dumps({"wall_ms": [int(w) / 1000 for w, _, _, _ in rows], "request_ms": [int(r) for _, r, _, _ in rows],
                  "curl_ms": [float(c) * 1000 for _, _, c, _ in rows],
                  "kubectl_healthz_ms": [int(h) / 1000 for _, _, _, h in rows],
                  "server_cpu_s": (float(sys.argv[3]) - float(sys.argv[2])) / int(sys.argv[4]),
                  "bytes": int(sys.argv[5])}))
PY
