# Shared setup for the remote backend tests: starting and stopping real
# servers on free 127.0.0.1 ports, a self-signed certificate, and the fault
# proxy. Sourced after lib.sh; every process started here is stopped on exit.
TOOLS=$(cd "$HERE/../tools" && pwd)
SERVER_PIDS=()

stop_servers() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${SERVER_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap 'stop_servers; chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT

# A port nobody listens on right now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until something accepts connections on PORT, or fails naming LABEL.
wait_port() {  # PORT LABEL LOG
  wait_until 60 accepts "$1" && return 0
  cat "$3" >&2 || true
  fail "$2 did not start on port $1"
}
accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Starts a server command in the background (its output in LOG) and
# records its process id for the exit trap.
start_server() {  # LOG COMMAND...
  local log=$1
  shift
  "$@" > "$log" 2>&1 &
  SERVER_PIDS+=($!)
}

# rclone serving restic's REST protocol from DIR; sets REST_PORT.
start_rclone() {  # DIR [EXTRA-FLAGS...]
  local dir=$1
  shift
  REST_PORT=$(free_port)
  start_server "$WORK/rclone-$REST_PORT.log" rclone serve restic "$dir" \
    --addr "127.0.0.1:$REST_PORT" "$@"
  wait_port "$REST_PORT" "rclone serve restic" "$WORK/rclone-$REST_PORT.log"
}

# A self-signed certificate for 127.0.0.1, localhost and the S3 virtual
# host names: $WORK/tls/cert.pem and key.pem.
make_cert() {
  mkdir -p "$WORK/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:s3.localhost,DNS:stashbucket.s3.localhost" \
    -keyout "$WORK/tls/key.pem" -out "$WORK/tls/cert.pem" 2>/dev/null
}

# The fault proxy in front of 127.0.0.1:UPSTREAM; sets PROXY_PORT. Its
# request log is $WORK/proxy-N.log.
start_proxy() {  # UPSTREAM-PORT PROXY-ARGS...
  local upstream=$1
  shift
  local portfile="$WORK/proxy.port.$RANDOM"
  PROXY_LOG="$WORK/proxy-$RANDOM.log"
  start_server "$PROXY_LOG.out" python3 "$TOOLS/fault_proxy.py" --upstream "127.0.0.1:$upstream" \
    --port-file "$portfile" --log "$PROXY_LOG" "$@"
  wait_until 30 test -s "$portfile" || fail "fault proxy did not start"
  PROXY_PORT=$(cat "$portfile")
  wait_port "$PROXY_PORT" "fault proxy" "$PROXY_LOG.out"
}

# Stops the most recently started server.
stop_last_server() {
  local pid=${SERVER_PIDS[-1]}
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset 'SERVER_PIDS[-1]'
}

# Fails unless FILE contains TEXT (fixed string).
expect_in() {  # FILE TEXT LABEL
  grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$3: expected \"$2\""; }
  pass "$3"
}

# stash writes a repository at LOCATION and restic reads it: `check
# --read-data` passes, snapshot and file lists agree, restores are equal.
# GLOBAL-FLAGS (e.g. --cacert) go to both programs.
stash_to_restic() {  # LOCATION LABEL [GLOBAL-FLAGS...]
  local repo=$1 label=$2
  shift 2
  $STASH -q "$@" -r "$repo" init
  $STASH -q "$@" -r "$repo" backup "$WORK/src" --tag remote
  $RESTIC "$@" -r "$repo" check --read-data > "$WORK/check.log" 2>&1 ||
    { cat "$WORK/check.log"; fail "$label: restic check --read-data"; }
  pass "$label: restic check --read-data accepts stash's repository"
  $RESTIC "$@" -r "$repo" snapshots --json > "$WORK/r.json"
  $STASH "$@" -r "$repo" snapshots --json > "$WORK/s.json"
  same_json "$label: snapshots --json" "$WORK/r.json" "$WORK/s.json"
  $RESTIC "$@" -r "$repo" ls --json latest > "$WORK/r.jsonl"
  $STASH "$@" -r "$repo" ls --json latest > "$WORK/s.jsonl"
  same_json "$label: ls --json" "$WORK/r.jsonl" "$WORK/s.jsonl"
  rm -rf "$WORK/out-r" "$WORK/out-s"
  $RESTIC -q "$@" -r "$repo" restore latest --target "$WORK/out-r"
  python3 "$HERE/compare_trees.py" "$WORK/src" "$WORK/out-r$WORK/src"
  $STASH -q "$@" -r "$repo" restore latest --target "$WORK/out-s"
  python3 "$HERE/compare_trees.py" "$WORK/src" "$WORK/out-s$WORK/src"
  pass "$label: restic and stash restore stash's snapshot exactly"
}

# restic writes a repository at LOCATION and stash reads it.
restic_to_stash() {  # LOCATION LABEL [GLOBAL-FLAGS...]
  local repo=$1 label=$2
  shift 2
  $RESTIC -q "$@" -r "$repo" init
  $RESTIC -q "$@" -r "$repo" backup "$WORK/src" --host restic-host
  $RESTIC "$@" -r "$repo" snapshots --json > "$WORK/r.json"
  $STASH "$@" -r "$repo" snapshots --json > "$WORK/s.json"
  same_json "$label: snapshots of restic's repository" "$WORK/r.json" "$WORK/s.json"
  $RESTIC "$@" -r "$repo" ls --json latest > "$WORK/r.jsonl"
  $STASH "$@" -r "$repo" ls --json latest > "$WORK/s.jsonl"
  same_json "$label: ls of restic's repository" "$WORK/r.jsonl" "$WORK/s.jsonl"
  rm -rf "$WORK/out-s"
  $STASH -q "$@" -r "$repo" restore latest --target "$WORK/out-s"
  python3 "$HERE/compare_trees.py" "$WORK/src" "$WORK/out-s$WORK/src"
  $STASH -q "$@" -r "$repo" check --read-data > "$WORK/check.log" 2>&1 ||
    { cat "$WORK/check.log"; fail "$label: stash check --read-data"; }
  pass "$label: stash reads, checks and restores restic's repository"
}

# `stash apiserver` serving the manifests in DIR on a free port, with an
# admin client certificate for curl; sets API (the base URL). Prune after
# delete is immediate so tests can watch it.
start_apiserver() {  # DIR
  local kubeconfig=$WORK/apiserver.kubeconfig
  start_server "$WORK/apiserver.log" "$STASH" apiserver --standalone-manifests "$1" \
    --standalone-kubeconfig "$kubeconfig" --bind-address 127.0.0.1 --secure-port 0 \
    --snapshot-refresh-interval 500ms --prune-delay 0s
  wait_until 30 test -s "$kubeconfig" || { cat "$WORK/apiserver.log"; fail "the apiserver wrote no kubeconfig"; }
  API=$(sed -n 's/^ *server: "\(.*\)"$/\1/p' "$kubeconfig")
  python3 - "$kubeconfig" "$WORK" <<'PY'
import base64, re, sys
text = open(sys.argv[1]).read()
for key, name in (("certificate-authority-data", "api-ca.pem"), ("client-certificate-data", "api-admin.pem"),
                  ("client-key-data", "api-admin-key.pem")):
    open(f"{sys.argv[2]}/{name}", "wb").write(base64.b64decode(re.search(key + r": (\S+)", text).group(1)))
PY
}

# curl as the apiserver's admin: api_curl METHOD PATH [CURL-ARGS...]
api_curl() {
  local method=$1 path=$2
  shift 2
  curl -sS --max-time 30 --cacert "$WORK/api-ca.pem" --cert "$WORK/api-admin.pem" \
    --key "$WORK/api-admin-key.pem" -X "$method" "$API$path" "$@"
}

# Polls a command until it succeeds, for up to 30 seconds.
eventually() {  # DESCRIPTION COMMAND...
  local what=$1
  shift
  wait_until 30 "$@" || fail "$what"
}

# The backend conformance program (test/unit/backend_conformance_test.cc)
# against LOCATION, in a fresh folder below it. VAR=value words before the
# location are passed to it (CONFORMANCE_CACERT, CONFORMANCE_AUTH_FAILURE,
# part sizes, ...).
run_conformance() {  # LABEL [VAR=value...] LOCATION
  local label=$1
  shift
  local log="$WORK/conformance-$RANDOM.log"
  local settings=("${@:1:$#-1}") location=${!#}
  env "${settings[@]}" CONFORMANCE_REPOSITORY="$location" "$BACKEND_CONFORMANCE" > "$log" 2>&1 ||
    { cat "$log" >&2; fail "$label: backend conformance"; }
  pass "$label: backend conformance ($(grep -E '^All tests passed' "$log" || echo done))"
}
