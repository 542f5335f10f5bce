# A real Kubernetes control plane for tests, started as local processes on
# loopback (the envtest pattern): etcd and kube-apiserver, and on request
# kube-controller-manager and kube-scheduler. Source this file, then:
#
#   cp_start DIR [--controllers]   certificates, ports, processes; exports
#                                  KUBECONFIG (cluster admin), KUBECTL,
#                                  CP_DIR, CP_SERVER and the CA/key paths
#   cp_stop                        stops every process it started, by PID
#
# cp_start installs an EXIT trap that calls cp_stop (and makes SIGTERM and
# SIGINT exit through it), so nothing is left running when a test fails or
# is killed on its timeout. The binaries come from build.sh beside this
# file (cached per machine). Certificates:
#   ca.crt/key              cluster CA: serving cert, client certs, SA root
#   front-proxy-ca.crt/key  the aggregator's CA; front-proxy-client.crt/key
#   sa.key/sa.pub           service-account token signing keys
#   admin.kubeconfig        user "admin", group system:masters

CP_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CP_PIDS=()

_cp_log() { echo "control plane: $*" >&2; }

_cp_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# _cp_cert NAME CA SUBJ [SAN]: a key and a certificate signed by CA.
_cp_cert() {
  local name=$1 ca=$2 subj=$3 san=${4:-}
  openssl req -new -newkey rsa:2048 -nodes -keyout "$CP_DIR/$name.key" -subj "$subj" \
    -out "$CP_DIR/$name.csr" 2>/dev/null
  local ext="$CP_DIR/$name.ext"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=digitalSignature,keyEncipherment"
    if [ -n "$san" ]; then
      echo "extendedKeyUsage=serverAuth,clientAuth"
      echo "subjectAltName=$san"
    else
      echo "extendedKeyUsage=clientAuth"
    fi
  } > "$ext"
  openssl x509 -req -in "$CP_DIR/$name.csr" -CA "$CP_DIR/$ca.crt" -CAkey "$CP_DIR/$ca.key" \
    -CAcreateserial -days 30 -extfile "$ext" -out "$CP_DIR/$name.crt" 2>/dev/null
}

_cp_ca() {
  openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$CP_DIR/$1.key" -out "$CP_DIR/$1.crt" \
    -days 30 -subj "/CN=$2" 2>/dev/null
}

# _cp_kubeconfig FILE CERTNAME: a kubeconfig for the client cert CERTNAME.
_cp_kubeconfig() {
  cat > "$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: $CP_SERVER
    certificate-authority: $CP_DIR/ca.crt
users:
- name: $2
  user:
    client-certificate: $CP_DIR/$2.crt
    client-key: $CP_DIR/$2.key
contexts:
- name: local
  context: {cluster: local, user: $2, namespace: default}
current-context: local
KC
}

# cp_token_kubeconfig NAMESPACE SERVICEACCOUNT FILE [SERVER]: a kubeconfig
# with a fresh token of that service account (2 h), so a process outside a
# pod acts exactly as the pod would; SERVER defaults to the control plane.
cp_token_kubeconfig() {
  local token
  token=$("$KUBECTL" -n "$1" create token "$2" --duration=2h) || return 1
  cp_kubeconfig_with_token "$3" "$token" "${4:-$CP_SERVER}"
}

# cp_kubeconfig_with_token FILE TOKEN [SERVER]
cp_kubeconfig_with_token() {
  cat > "$1" <<KC
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "${3:-$CP_SERVER}", certificate-authority: "$CP_DIR/ca.crt"}}]
users: [{name: sa, user: {token: "$2"}}]
contexts: [{name: local, context: {cluster: local, user: sa, namespace: stash}}]
current-context: local
KC
}

# _cp_spawn NAME CMD...: starts CMD in the background, output to NAME.log.
_cp_spawn() {
  local name=$1; shift
  "$@" > "$CP_DIR/$name.log" 2>&1 &
  local pid=$!
  CP_PIDS+=("$pid")
  echo "$pid" > "$CP_DIR/$name.pid"
}

_cp_wait_ready() {
  local i
  for i in $(seq 1 120); do
    if curl -sf --cacert "$CP_DIR/ca.crt" --cert "$CP_DIR/admin.crt" --key "$CP_DIR/admin.key" \
        "$CP_SERVER/readyz" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.5
  done
  _cp_log "kube-apiserver not ready after 60 s; last lines of its log:"
  tail -20 "$CP_DIR/kube-apiserver.log" >&2
  return 1
}

# _cp_start_etcd BIN: starts etcd on free ports as a member named after this
# run, and checks that the etcd answering there is ours: a port picked free
# can be taken by a concurrent run before etcd binds it, and then this run's
# kube-apiserver would share that run's storage. Tries new ports up to 3 times.
_cp_start_etcd() {
  local bin=$1 attempt i peer_port pid name="cp-$$-$RANDOM"
  for attempt in 1 2 3; do
    CP_ETCD_PORT=$(_cp_free_port); peer_port=$(_cp_free_port)
    rm -rf "$CP_DIR/etcd"
    _cp_spawn etcd "$bin/etcd" --data-dir "$CP_DIR/etcd" --name "$name" \
      --listen-client-urls "http://127.0.0.1:$CP_ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$CP_ETCD_PORT" \
      --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
      --initial-cluster "$name=http://127.0.0.1:$peer_port" --log-level warn
    pid=${CP_PIDS[-1]}
    for i in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      if curl -sf -X POST "http://127.0.0.1:$CP_ETCD_PORT/v3/cluster/member/list" 2>/dev/null | grep -q "\"$name\""; then
        return 0
      fi
      sleep 0.25
    done
    _cp_log "etcd on port $CP_ETCD_PORT is not ours (attempt $attempt); trying other ports"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset 'CP_PIDS[-1]'
  done
  _cp_log "etcd did not start; last lines of its log:"
  tail -20 "$CP_DIR/etcd.log" >&2
  return 1
}

cp_start() {
  CP_DIR=$1; shift
  local controllers=0
  [ "${1:-}" = "--controllers" ] && controllers=1
  local bin
  bin=$(bash "$CP_HERE/build.sh") || { _cp_log "the control plane binaries could not be built"; return 1; }
  mkdir -p "$CP_DIR"
  export CP_DIR KUBECTL="$bin/kubectl"
  trap cp_stop EXIT
  # A test killed on its timeout (SIGTERM) must still stop what it started:
  # exiting from the signal runs the EXIT trap, whoever set it.
  trap 'exit 143' TERM INT

  _cp_ca ca kubernetes-ca
  _cp_ca front-proxy-ca front-proxy-ca
  _cp_cert apiserver ca "/CN=kube-apiserver" "IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc"
  _cp_cert admin ca "/O=system:masters/CN=admin"
  _cp_cert front-proxy-client front-proxy-ca "/CN=front-proxy-client"
  _cp_cert controller-manager ca "/CN=system:kube-controller-manager"
  _cp_cert scheduler ca "/CN=system:kube-scheduler"
  openssl genrsa -out "$CP_DIR/sa.key" 2048 2>/dev/null
  openssl rsa -in "$CP_DIR/sa.key" -pubout -out "$CP_DIR/sa.pub" 2>/dev/null

  CP_PORT=$(_cp_free_port)
  CP_SERVER="https://127.0.0.1:$CP_PORT"
  export CP_SERVER CP_PORT
  _cp_kubeconfig "$CP_DIR/admin.kubeconfig" admin
  _cp_kubeconfig "$CP_DIR/controller-manager.kubeconfig" controller-manager
  _cp_kubeconfig "$CP_DIR/scheduler.kubeconfig" scheduler
  export KUBECONFIG="$CP_DIR/admin.kubeconfig"

  _cp_start_etcd "$bin" || return 1
  # --enable-aggregator-routing=false: the aggregator resolves an
  # ExternalName Service itself, which is how it reaches a local process.
  _cp_spawn kube-apiserver "$bin/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$CP_ETCD_PORT" \
    --bind-address 127.0.0.1 --secure-port "$CP_PORT" --advertise-address 127.0.0.1 \
    --endpoint-reconciler-type none \
    --tls-cert-file "$CP_DIR/apiserver.crt" --tls-private-key-file "$CP_DIR/apiserver.key" \
    --client-ca-file "$CP_DIR/ca.crt" \
    --service-account-key-file "$CP_DIR/sa.pub" --service-account-signing-key-file "$CP_DIR/sa.key" \
    --service-account-issuer https://kubernetes.default.svc \
    --authorization-mode RBAC,Node --service-cluster-ip-range 10.96.0.0/16 \
    --requestheader-client-ca-file "$CP_DIR/front-proxy-ca.crt" \
    --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$CP_DIR/front-proxy-client.crt" \
    --proxy-client-key-file "$CP_DIR/front-proxy-client.key" \
    --enable-aggregator-routing=false
  _cp_wait_ready || return 1

  if [ "$controllers" = 1 ]; then
    _cp_spawn kube-controller-manager "$bin/kube-controller-manager" \
      --kubeconfig "$CP_DIR/controller-manager.kubeconfig" \
      --authentication-kubeconfig "$CP_DIR/controller-manager.kubeconfig" \
      --authorization-kubeconfig "$CP_DIR/controller-manager.kubeconfig" \
      --service-account-private-key-file "$CP_DIR/sa.key" --root-ca-file "$CP_DIR/ca.crt" \
      --use-service-account-credentials \
      --cluster-signing-cert-file "$CP_DIR/ca.crt" --cluster-signing-key-file "$CP_DIR/ca.key" \
      --leader-elect=false --secure-port 0
    _cp_spawn kube-scheduler "$bin/kube-scheduler" --kubeconfig "$CP_DIR/scheduler.kubeconfig" \
      --authentication-kubeconfig "$CP_DIR/scheduler.kubeconfig" \
      --authorization-kubeconfig "$CP_DIR/scheduler.kubeconfig" \
      --leader-elect=false --secure-port 0
  fi
  _cp_log "up at $CP_SERVER (kubeconfig $KUBECONFIG)"
}

# Stops the processes in the reverse order of their start, each with SIGTERM
# and then SIGKILL after 10 s: kube-apiserver goes before etcd (SIGTERM to
# both at once can leave kube-apiserver running for minutes).
cp_stop() {
  local n i pid
  for ((n = ${#CP_PIDS[@]} - 1; n >= 0; n--)); do
    pid=${CP_PIDS[$n]}
    kill -TERM "$pid" 2>/dev/null || continue
    for i in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  CP_PIDS=()
  return 0
}

# What a test that runs pods needs, or exit 77 (SKIP) naming what is missing:
# root and unshare for the test node's mount namespaces, and the binaries.
cp_require_node() {
  [ "$(id -u)" = 0 ] || { echo "SKIP: needs root (the test node's mount namespaces)"; exit 77; }
  command -v unshare >/dev/null || { echo "SKIP: unshare is not installed (util-linux)"; exit 77; }
  bash "$CP_HERE/build.sh" > /dev/null 2> "${TMPDIR:-/tmp}/cp-build-$$.log" || {
    tail -5 "${TMPDIR:-/tmp}/cp-build-$$.log"; echo "SKIP: the control plane binaries could not be built"; exit 77; }
  rm -f "${TMPDIR:-/tmp}/cp-build-$$.log"
}

# cp_stop_pid VAR: stops the process whose pid VAR holds (TERM, then KILL
# after 20 s) and empties VAR.
cp_stop_pid() {
  local pid=${!1:-} i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  printf -v "$1" '%s' ''
}

# cp_start_node NAME STATE-DIR LOG: runs test/tools/test_node.py (the
# kubelet stand-in) as node NAME for this control plane, with the build's
# stash for stash images; waits until the Node is Ready. Sets CP_NODE_PID
# and CP_NODE_STATE.
cp_start_node() {
  CP_NODE_STATE=$2
  python3 "$CP_HERE/../tools/test_node.py" --kubeconfig "$KUBECONFIG" --node-name "$1" \
    --state-dir "$CP_NODE_STATE" --stash-binary "$STASH" > "$3" 2>&1 &
  CP_NODE_PID=$!
  local i
  for i in $(seq 1 120); do
    [ "$("$KUBECTL" get node "$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ] &&
      return 0
    kill -0 "$CP_NODE_PID" 2>/dev/null || break
    sleep 0.5
  done
  _cp_log "node $1 never became Ready; last lines of its log:"
  tail -20 "$3" >&2
  return 1
}

# cp_stop_node: stops the test node, then kills what its containers left
# running (a killed node cannot stop them).
cp_stop_node() {
  cp_stop_pid CP_NODE_PID
  local f
  for f in "${CP_NODE_STATE:-/nonexistent}"/*_*/*.pid; do
    [ -f "$f" ] && kill -KILL -- "-$(cat "$f")" 2>/dev/null || true
  done
}

# What an interop test starts beside the control plane; stopped first on exit.
pids=()

_cp_test_cleanup() {
  local p
  # A test's own clean-up (processes it restarts under names of its own) first.
  if declare -F cp_test_cleanup >/dev/null; then cp_test_cleanup || true; fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  cp_stop_node
  cp_stop || true
  rm -rf "${WORK:?}" || true
}

# cp_start_for_test DIR [--controllers]: cp_start for an interop test, with
# stash's namespace and CRDs applied and served. On exit the test's function
# cp_test_cleanup (if it defines one) runs, then the processes in `pids`, the
# test node, the control plane and $WORK are stopped or removed.
cp_start_for_test() {
  cp_start "$@" || { echo "FAIL: the control plane did not start"; exit 1; }
  trap _cp_test_cleanup EXIT
  local root=$CP_HERE/../.. f
  "$KUBECTL" apply -f "$root/manifests/00-namespace.yaml" >/dev/null
  for f in "$root"/manifests/01-crd-*.yaml; do "$KUBECTL" apply -f "$f" >/dev/null; done
  "$KUBECTL" wait --for condition=established --timeout=60s crd --all >/dev/null
}
