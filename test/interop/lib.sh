# Shared setup for the interop tests: paths to both binaries, a scratch
# folder removed on exit, and small assertion helpers.
set -euo pipefail
STASH=${STASH:?STASH must point at the stash binary}
RESTIC=${RESTIC:-restic}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d /tmp/stash-interop-XXXXXX)
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
export RESTIC_PASSWORD=interop-password
unset RESTIC_REPOSITORY RESTIC_PASSWORD_FILE RESTIC_PASSWORD_COMMAND

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# Equal JSON documents (or JSON Lines) after parsing, else fail with a diff.
same_json() {  # LABEL FILE-A FILE-B
  python3 - "$@" <<'PY'
import json, sys
label, a, b = sys.argv[1:4]
def load(p):
    text = open(p).read().strip()
    try:
        return json.loads(text)
    except ValueError:
        return [json.loads(l) for l in text.splitlines() if l.strip()]
da, db = load(a), load(b)
if da != db:
    print(f"FAIL: {label} differ\n--- {a}\n{json.dumps(da, indent=1)[:3000]}\n--- {b}\n{json.dumps(db, indent=1)[:3000]}")
    sys.exit(1)
print(f"ok: {label} equal")
PY
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
