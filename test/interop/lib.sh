# Shared setup for the interop tests: paths to both binaries, a scratch
# folder removed on exit, and small assertion helpers.
set -euo pipefail
STASH=${STASH:?STASH must point at the stash binary}
RESTIC=${RESTIC:-restic}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d /tmp/stash-interop-XXXXXX)
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
export RESTIC_PASSWORD=interop-password
unset RESTIC_REPOSITORY RESTIC_PASSWORD_FILE RESTIC_PASSWORD_COMMAND RESTIC_KEY_HINT RESTIC_FROM_KEY_HINT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# Equal JSON documents (or JSON Lines) after parsing, else fail with a diff.
# Against Debian's restic 0.14, which drops the snapshot members restic 0.17
# added (program_version, summary), both sides are compared without them.
same_json() {  # LABEL FILE-A FILE-B
  RESTIC_KNOWS_SUMMARY=${RESTIC_KNOWS_SUMMARY:-0} python3 - "$HERE" "$@" <<'PY'
import json, os, sys
sys.path.insert(0, sys.argv[1])
from restic_view import as_restic_014_shows
label, a, b = sys.argv[2:5]
def load(p):
    text = open(p).read().strip()
    try:
        doc = json.loads(text)
    except ValueError:
        doc = [json.loads(l) for l in text.splitlines() if l.strip()]
    return doc if os.environ["RESTIC_KNOWS_SUMMARY"] == "1" else as_restic_014_shows(doc)
da, db = load(a), load(b)
if da != db:
    print(f"FAIL: {label} differ\n--- {a}\n{json.dumps(da, indent=1)[:3000]}\n--- {b}\n{json.dumps(db, indent=1)[:3000]}")
    sys.exit(1)
print(f"ok: {label} equal")
PY
}

# use_newer_restic: this test runs against restic 0.18.1 rather than
# Debian's 0.14. test/run.sh builds it (bench/peers.sh --only restic) and
# names it in RESTIC_NEWER; without it the test reports SKIP with the reason.
use_newer_restic() {
  if [ -z "${RESTIC_NEWER:-}" ] || [ ! -x "$RESTIC_NEWER" ]; then
    echo "SKIP: restic 0.18.1 is not built: ${RESTIC_NEWER_MISSING:-RESTIC_NEWER is not set (test/run.sh sets it)}"
    exit 77
  fi
  RESTIC=$RESTIC_NEWER
  RESTIC_KNOWS_SUMMARY=1
  echo "restic: $($RESTIC version)"
}

# drop_keys FILE KEY...: FILE's JSON Lines without the top-level KEYs, for
# output that restic extended after 0.14 (`ls --json` of 0.18 adds
# "message_type" and "inode").
drop_keys() {
  python3 - "$@" <<'PY2'
import json, sys
path, keys = sys.argv[1], set(sys.argv[2:])
lines = [json.loads(l) for l in open(path) if l.strip()]
with open(path, "w") as f:
    for d in lines:
        f.write(json.dumps({k: v for k, v in d.items() if k not in keys}) + "\n")
PY2
}

# Reads every file once so relatime has already updated access times; then
# stash and restic see the same atimes when they back the tree up.
warm_atimes() { tar cf /dev/null "$1" 2>/dev/null || true; }

# Runs COMMAND every 0.1 s until it succeeds; returns non-zero once
# TIMEOUT-SECONDS have passed without success. A bound on a wait, never a
# delay: callers wait for what they need (a port file, a log line) and fail
# if it does not come. Bounds are generous as test runs share the machine.
wait_until() {  # TIMEOUT-SECONDS COMMAND...
  local deadline=$(( $(date +%s) + $1 ))
  shift
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# manifest_without_workloads IN OUT: the documents of manifest IN but its
# Deployments and Services (a test that runs the server itself on a
# cluster with a test node, which would otherwise run them too).
manifest_without_workloads() {
  python3 - "$1" > "$2" <<'PY'
import re, sys
docs = re.split(r"^---$", open(sys.argv[1]).read(), flags=re.M)
print("---".join(d for d in docs if not re.search(r"^kind: (Deployment|Service)$", d, re.M)))
PY
}

# start_stash_servers IMAGE [OPERATOR-FLAG...]: for the cluster tests that run Stash as the
# manifests install it, with the servers outside pods as their service
# accounts (the manifests' RBAC and service accounts, not their
# Deployments, which the test node would run beside them): `stash
# apiserver` behind its APIService and `stash operator` with its webhook,
# sidecars of image IMAGE. Needs cp_start_for_test and a test node; logs in
# $WORK/apiserver.log and $WORK/operator.log, pids in `pids`. Returns
# non-zero, having printed the logs, when either did not come up.
start_stash_servers() {
  local manifests=$HERE/../../manifests api_port hook_port image=$1
  shift
  manifest_without_workloads "$manifests/02-rbac.yaml" "$WORK/apiserver-rbac.yaml"
  manifest_without_workloads "$manifests/05-operator.yaml" "$WORK/operator-rbac.yaml"
  "$KUBECTL" apply -f "$WORK/apiserver-rbac.yaml" -f "$WORK/operator-rbac.yaml" >/dev/null
  cp_token_kubeconfig stash stash-apiserver "$WORK/apiserver.kubeconfig"
  cp_token_kubeconfig stash stash-operator "$WORK/operator.kubeconfig"
  api_port=$(_cp_free_port) hook_port=$(_cp_free_port)
  "$KUBECTL" -n stash create service externalname stash-apiserver --external-name localhost \
    --tcp="$api_port:$api_port" >/dev/null
  "$STASH" apiserver --kubeconfig "$WORK/apiserver.kubeconfig" --bind-address 127.0.0.1 --secure-port "$api_port" \
    --apiservice-service "stash/stash-apiserver:$api_port" --snapshot-refresh-interval 500ms > "$WORK/apiserver.log" 2>&1 &
  pids+=($!)
  "$STASH" operator --kubeconfig "$WORK/operator.kubeconfig" --no-leader-elect --image "$image" \
    --webhook-url "https://127.0.0.1:$hook_port" --webhook-port "$hook_port" --webhook-bind-address 127.0.0.1 "$@" \
    > "$WORK/operator.log" 2>&1 &
  pids+=($!)
  wait_until 90 grep -q "Restic controller running" "$WORK/operator.log" &&
    wait_until 90 grep -q "Registered APIService" "$WORK/apiserver.log" &&
    "$KUBECTL" --request-timeout=60s wait --for=condition=Available --timeout=90s \
      apiservice/v1alpha1.repositories.stash.appscode.com >/dev/null || {
    tail -30 "$WORK/operator.log" "$WORK/apiserver.log"
    echo "FAIL: the Stash apiserver (APIService Available) or operator (webhook) did not come up" >&2
    return 1
  }
}
