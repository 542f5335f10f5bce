#!/usr/bin/env bash
# The Stash sidecar (`stash backup --restic-name=...`) on a real kube-apiserver
# (test/controlplane), with a real Prometheus Pushgateway and restic 0.14 as the
# judge of what it stored: sessions on the Restic's schedule, the Repository
# object and its status, retention, Events, pushed metrics, the check Job;
# `paused`; a wrong password, a Secret without its password, an unreachable
# backend and a missing Restic, each an Event while the loop goes on and the
# data stays; one leader among Deployment replicas; a Repository per
# StatefulSet pod.
source "$(dirname "$0")/lib.sh"
PUSHGATEWAY=$(command -v prometheus-pushgateway || true)
[ -n "$PUSHGATEWAY" ] || { echo "SKIP: prometheus-pushgateway is not installed (Debian package prometheus-pushgateway)"; exit 77; }
command -v "$RESTIC" >/dev/null || { echo "SKIP: restic is not installed"; exit 77; }
source "$HERE/../controlplane/lib.sh"
cp_start_for_test "$WORK/cp"
k() { "$KUBECTL" --request-timeout=60s "$@"; }
k create namespace demo >/dev/null

# A real Pushgateway, on a free port of loopback.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$PUSHGATEWAY" --web.listen-address="127.0.0.1:$port" > "$WORK/pushgateway.log" 2>&1 &
pids+=($!)
PGW="http://127.0.0.1:$port"
wait_until 30 curl -sf "$PGW/-/ready" -o /dev/null || { cat "$WORK/pushgateway.log"; fail "the Pushgateway did not start"; }

mkdir -p "$WORK/data/sub" "$WORK/db-data" "$WORK/backups"
echo "first" > "$WORK/data/a.txt"
head -c 300000 /dev/urandom > "$WORK/data/sub/blob.bin"
echo "db" > "$WORK/db-data/table"
printf 'app="web"\npod-template-hash="5d9c7b"\ntier.example.com/role="front/end"\n' > "$WORK/labels"
k -n demo create secret generic repo-secret --save-config --from-literal=RESTIC_PASSWORD="$RESTIC_PASSWORD" >/dev/null

restic_object() {  # NAME PATH KEEP-LAST [BACKEND-YAML]
  local backend=${4:-"local: {mountPath: $WORK/backups, hostPath: {path: $WORK/backups}}"}
  cat <<EOR
apiVersion: stash.appscode.com/v1alpha1
kind: Restic
metadata: {name: $1, namespace: demo}
spec:
  selector: {matchLabels: {app: $1}}
  schedule: "@every 5s"
  fileGroups: [{path: $2, tags: [nightly, web], retentionPolicyName: keep}]
  backend:
    storageSecretName: repo-secret
    $backend
  retentionPolicies: [{name: keep, keepLast: $3, prune: true}]
EOR
}
restic_object app-backup "$WORK/data" 2 | k apply -f - >/dev/null

sidecar() {  # LOG KIND WORKLOAD POD RESTIC; its PID in $last_pid
  POD_NAME=$4 NODE_NAME=node-1 STASH_HTTP_RETRIES=2 STASH_HTTP_TIMEOUT=5 "$STASH" backup --restic-name="$5" \
    --workload-kind="$2" --workload-name="$3" --run-via-cron=true --docker-registry=appscode --image-tag=0.8.3 \
    --enable-status-subresource=true --enable-rbac=false --kubeconfig "$KUBECONFIG" --namespace demo \
    --pushgateway-url "$PGW" --pod-labels-path "$WORK/labels" > "$WORK/$1.log" 2>&1 &
  last_pid=$!
  pids+=("$last_pid")
}
count() { k -n demo get repository "$1" -o jsonpath='{.status.backupCount}' 2>/dev/null || true; }
count_at_least() { local c; c=$(count "$1"); [ -n "$c" ] && [ "$c" -ge "$2" ]; }
events() {  # REASON [OBJECT]: the messages of those Events
  k -n demo get events --field-selector "reason=$1${2:+,involvedObject.name=$2}" -o jsonpath='{range .items[*]}{.message}{"\n"}{end}'
}
has_event() { local m; m=$(events "$1" "${3:-}"); [[ "$m" == *"$2"* ]]; }
lines() { grep -c "$2" "$WORK/$1.log" || true; }
metric() {  # NAME: the Pushgateway's line for that metric of job demo-app-backup
  local text; text=$(curl -sf "$PGW/metrics") || return 1
  grep "^$1{" <<<"$text" | grep 'job="demo-app-backup"' || true
}
metric_is() { [[ "$(metric "$1")" == *" $2" ]]; }  # NAME VALUE
skips_at_least() { [ "$(lines a 'is paused: skipping')" -ge "$1" ]; }

sidecar a Deployment app app-7d4-a app-backup
pid_a=$last_pid
wait_until 120 count_at_least deployment.app 3 || { cat "$WORK/a.log"; fail "deployment.app did not count 3 sessions"; }
labels=$(k -n demo get repository deployment.app -o jsonpath='{.metadata.labels}')
for want in '"restic":"app-backup"' '"workload-kind":"Deployment"' '"workload-name":"app"'; do
  grep -qF "$want" <<<"$labels" || fail "Repository labels $labels lack $want"
done
sub=$(k -n demo get repository deployment.app -o jsonpath='{.spec.backend.local.subPath}')
[ "$sub" = deployment/app ] || fail "Repository subPath is '$sub'"
status=$(k -n demo get repository deployment.app -o jsonpath='{.status}')
for field in firstBackupTime lastBackupTime lastBackupDuration; do
  grep -q "\"$field\":\"" <<<"$status" || fail "Repository status lacks $field: $status"
done
pass "sessions on '@every 5s': Repository deployment.app with 0.8.3's labels, backend and status ($status)"

holder=$(k -n demo get lease lock-deployment-app -o jsonpath='{.spec.holderIdentity}')
[ "$holder" = app-7d4-a ] || fail "lease lock-deployment-app held by '$holder'"
has_event SuccessfulBackup "Backed up pod: app-7d4-a, path: $WORK/data" app-backup || fail "no SuccessfulBackup Event: $(events SuccessfulBackup)"
has_event CheckJobCreated "Created check job: stash-check-app-backup" app-backup || fail "no CheckJobCreated Event"
job_labels=$(k -n demo get job stash-check-app-backup -o jsonpath='{.metadata.labels}')
for want in '"app":"stash"' '"restic":"app-backup"' '"operation":"check"'; do
  grep -qF "$want" <<<"$job_labels" || fail "check Job labels $job_labels lack $want"
done
job_args=$(k -n demo get job stash-check-app-backup -o jsonpath='{.spec.template.spec.containers[0].args}')
[ "$job_args" = '["check","--restic-name=app-backup","--host-name=app","--smart-prefix=deployment/app"]' ] ||
  fail "check Job args: $job_args"
owner=$(k -n demo get job stash-check-app-backup -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}')
[ "$owner" = Restic/app-backup ] || fail "check Job owner: $owner"
pass "leader lock-deployment-app held by the replica; SuccessfulBackup and CheckJobCreated Events; check Job $job_args"

success=$(metric restic_session_success)
metric_is restic_session_success 1 || fail "restic_session_success: '$success'"
for want in 'app="app"' 'kind="Deployment"' 'namespace="demo"' 'stash_config="app-backup"' 'pod_app="web"' \
            'pod_tier_example_com_role="front|end"'; do
  grep -qF "$want" <<<"$success" || fail "restic_session_success lacks $want: $success"
done
! grep -q pod_template_hash <<<"$success" || fail "pod-template-hash became a grouping label: $success"
metric_is restic_session_fail 0 || fail "restic_session_fail: $(metric restic_session_fail)"
durations=$(metric restic_session_duration_seconds)
grep -qF "filegroup=\"${WORK//\//|}|data\"" <<<"$durations" && grep -q 'op="forget"' <<<"$durations" ||
  fail "restic_session_duration_seconds: $durations"
[ -n "$(metric restic_session_duration_seconds_total)" ] || fail "no restic_session_duration_seconds_total"
pass "metrics pushed to the Pushgateway as 0.8.3 named and grouped them"

# paused: true: sessions are skipped, the count stands still.
k -n demo patch restic app-backup --type=merge -p '{"spec":{"paused":true}}' >/dev/null
wait_until 30 grep -q "is paused: skipping" "$WORK/a.log" || fail "no session skipped after pausing"
paused_at=$(count deployment.app)
skips=$(lines a "is paused: skipping")
wait_until 30 skips_at_least $((skips + 2)) || fail "no further skipped sessions"
[ "$(count deployment.app)" = "$paused_at" ] || fail "backupCount moved while paused: $paused_at -> $(count deployment.app)"
pass "paused: sessions skipped, backupCount stays at $paused_at"

# With nothing running, restic judges the repository.
repo="$WORK/backups/deployment/app"
"$RESTIC" -r "$repo" snapshots --json --no-lock > "$WORK/snaps.json" || fail "restic cannot list $repo"
python3 - "$WORK/snaps.json" "$WORK/data" <<'PY' || fail "snapshots in $repo are not what the Restic asked for"
import json, sys
snaps = json.load(open(sys.argv[1]))
assert len(snaps) == 2, f"{len(snaps)} snapshots, keepLast is 2"
for s in snaps:
    assert s["hostname"] == "app", s
    assert s["paths"] == [sys.argv[2]], s
    assert sorted(s["tags"]) == ["nightly", "web"], s
PY
"$RESTIC" -r "$repo" check > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; fail "restic check failed on $repo"; }
"$RESTIC" -r "$repo" restore latest --target "$WORK/restored" >/dev/null || fail "restic cannot restore"
cmp "$WORK/data/sub/blob.bin" "$WORK/restored$WORK/data/sub/blob.bin" || fail "restored data differs"
pass "restic 0.14: exactly 2 snapshots kept (host app, tags, path), check passes, restore matches"

# What the check Job runs.
check_job() { "$STASH" check --restic-name=app-backup --host-name=app --smart-prefix="$1" --kubeconfig "$KUBECONFIG" --namespace demo; }
out=$(check_job deployment/app 2>&1) || fail "stash check --restic-name failed: $out"
[[ "$out" == *"no errors were found in $repo"* ]] || fail "stash check --restic-name said: $out"
if out=$(check_job deployment/nothing 2>&1); then fail "a check of a missing repository passed: $out"; fi
[[ "$out" == *"no repository at $WORK/backups/deployment/nothing"* ]] || fail "missing repository: $out"
[ ! -e "$WORK/backups/deployment/nothing/config" ] || fail "the check created a repository"
wait_until 30 has_event FailedToCheck "deployment/nothing" app-backup || fail "no FailedToCheck Event"
pass "stash check --restic-name (the check Job's command): passes on the repository, names a missing one (FailedToCheck)"

# Bad input: each one Event naming the problem, the loop goes on, the data stays.
unpause() { k -n demo patch restic app-backup --type=merge -p '{"spec":{"paused":false}}' >/dev/null; }
k -n demo create secret generic repo-secret --from-literal=RESTIC_PASSWORD=wrong --dry-run=client -o yaml | k apply -f - >/dev/null
unpause
wait_until 60 has_event FailedToBackup "wrong password" app-backup || { tail -5 "$WORK/a.log"; fail "no FailedToBackup Event for a wrong password"; }
wait_until 30 metric_is restic_session_fail 1 ||
  fail "restic_session_fail is not 1 after a failed session: $(metric restic_session_fail)"
pass "a wrong password: FailedToBackup ($(events FailedToBackup app-backup | grep 'wrong password' | head -1)), restic_session_fail 1"

k -n demo create secret generic repo-secret --from-literal=OTHER=x --dry-run=client -o yaml | k apply -f - >/dev/null
wait_until 60 has_event FailedToBackup "has no RESTIC_PASSWORD" app-backup || fail "no Event for a Secret without RESTIC_PASSWORD"
pass "a Secret without RESTIC_PASSWORD: $(events FailedToBackup app-backup | grep RESTIC_PASSWORD | head -1)"

k -n demo create secret generic repo-secret --from-literal=RESTIC_PASSWORD="$RESTIC_PASSWORD" --dry-run=client -o yaml | k apply -f - >/dev/null
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
restic_object app-backup "$WORK/data" 2 "rest: {url: 'http://127.0.0.1:$closed/'}" | k apply -f - >/dev/null
wait_until 120 has_event FailedToBackup "127.0.0.1:$closed" app-backup || { tail -5 "$WORK/a.log"; fail "no Event naming the unreachable backend"; }
pass "an unreachable backend: $(events FailedToBackup app-backup | grep "127.0.0.1:$closed" | head -1)"

before=$(count deployment.app)
restic_object app-backup "$WORK/data" 2 | k apply -f - >/dev/null
wait_until 60 count_at_least deployment.app $((before + 2)) || { tail -20 "$WORK/a.log"; fail "sessions did not resume after the fixes"; }
kill -0 "$pid_a" || fail "the sidecar died"
wait_until 30 metric_is restic_session_success 1 || fail "no success metric after recovery"
"$RESTIC" -r "$repo" check > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; fail "restic check failed after the bad input"; }
pass "after the fixes sessions resume in the same process (backupCount $before -> $(count deployment.app)); restic check passes"

# A second replica: only the leader backs up; it takes over when the leader goes.
sidecar b Deployment app app-7d4-b app-backup
wait_until 30 grep -q "waiting to lead" "$WORK/b.log" || fail "replica b did not start"
start=$(count deployment.app)
wait_until 60 count_at_least deployment.app $((start + 3)) || fail "sessions stopped with two replicas"
[ "$(lines b 'backed up ')" = 0 ] || fail "replica b backed up while a led"
[ "$(k -n demo get lease lock-deployment-app -o jsonpath='{.spec.holderIdentity}')" = app-7d4-a ] || fail "the lease moved"
kill "$pid_a"; wait "$pid_a" 2>/dev/null || true
wait_until 90 grep -q "backed up " "$WORK/b.log" || { tail -20 "$WORK/b.log"; fail "replica b did not take over"; }
[ "$(k -n demo get lease lock-deployment-app -o jsonpath='{.spec.holderIdentity}')" = app-7d4-b ] || fail "lease not with b"
pass "two replicas: only the leader backs up; the other takes over when it stops"

# A StatefulSet: every pod its own repository, no election.
restic_object db-backup "$WORK/db-data" 1 | k apply -f - >/dev/null
sidecar db0 StatefulSet db db-0 db-backup
sidecar db1 StatefulSet db db-1 db-backup
wait_until 120 count_at_least statefulset.db-0 2 || { cat "$WORK/db0.log"; fail "no sessions for statefulset.db-0"; }
wait_until 60 count_at_least statefulset.db-1 2 || { cat "$WORK/db1.log"; fail "no sessions for statefulset.db-1"; }
[ "$(k -n demo get repository statefulset.db-1 -o jsonpath='{.metadata.labels.pod-name}')" = db-1 ] || fail "no pod-name label"
hosts=$("$RESTIC" -r "$WORK/backups/statefulset/db-0" snapshots --json --no-lock | python3 -c 'import json,sys; print(sorted({s["hostname"] for s in json.load(sys.stdin)}))')
[ "$hosts" = "['db-0']" ] || fail "statefulset/db-0 holds hosts $hosts"
pass "StatefulSet pods db-0 and db-1: a Repository and a restic repository each, host = pod name"

# A Restic that does not exist: one Event on the pod, the process keeps waiting for it.
sidecar ghost StatefulSet ghost ghost-0 no-such-restic
ghost_pid=$last_pid
wait_until 60 has_event FailedSetup "Restic demo/no-such-restic not found" ghost-0 || { cat "$WORK/ghost.log"; fail "no FailedSetup Event for a missing Restic"; }
kill -0 "$ghost_pid" || fail "the sidecar of a missing Restic exited"
pass "a missing Restic: FailedSetup Event on the pod, the sidecar keeps running"
# A sidecar built with the sanitizers reports into its log and may go on (or at
# exit, for leaks): stop them all (SIGTERM, as the kubelet does) and read the logs.
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
pids=()
if reports=$(grep -l "runtime error:\|AddressSanitizer\|LeakSanitizer" "$WORK"/*.log); then
  fail "sanitizer reports in $reports"
fi
echo "sidecar: all checks passed"
