#!/usr/bin/env bash
# `stash operator` carries out Recoveries on a real control plane: etcd,
# kube-apiserver, the controller manager (the Job controller and the garbage
# collector) and the scheduler, with test/tools/test_node.py running the
# restore Jobs' pods as local processes of the stash binary. The repository
# is made by restic 0.14 (three backups: two of host web, a later one of
# host other) behind a local-backend Repository as a 0.8.3 sidecar made it.
# Checked:
# - the latest snapshot of the Repository's host comes back into a hostPath
#   recovered volume, byte for byte, modes, owners, times, links (the path's
#   own folder too); phase Succeeded, status.stats, Events, the Job's owner;
# - a Recovery naming the first snapshot restores that one;
# - bad input: a missing Repository, a missing Secret, a snapshot the
#   repository does not have: Failed/InvalidRecovery with a Warning Event,
#   no Job, and no second attempt when the Recovery is touched again;
# - a wrong password: the Job's pod exits 2, the Job fails without retries,
#   the Recovery is Failed/FailedRecovery naming the wrong password;
# - deleting a Recovery deletes its Job.
source "$(dirname "$0")/lib.sh"
source "$HERE/../controlplane/lib.sh"
command -v "$RESTIC" >/dev/null || { echo "SKIP: restic is not installed"; exit 77; }
cp_require_node

STATE=$WORK/node
OPERATOR_PID=
stop() { cp_stop_pid "$1"; }
cp_test_cleanup() { stop OPERATOR_PID; }
cp_start_for_test "$WORK/cp" --controllers
k() { "$KUBECTL" --request-timeout=60s "$@"; }
jp() { k -n demo get "$1" -o "jsonpath=$2" 2>/dev/null || true; }  # jp KIND/NAME JSONPATH

cp_start_node test-node-1 "$STATE" "$WORK/test-node.log" || fail "node test-node-1 never became Ready"

# The operator's service account and RBAC, not its Deployment: the test
# node would run that, and this test runs the operator itself.
manifest_without_workloads "$HERE/../../manifests/05-operator.yaml" "$WORK/operator-rbac.yaml"
k apply -f "$WORK/operator-rbac.yaml" >/dev/null
k create namespace demo >/dev/null
wait_until 60 k -n demo get serviceaccount default -o name >/dev/null 2>&1 || fail "no default service account"

# --- the repository: restic 0.14, as a Deployment's sidecar would have filled it ---
REPO=$WORK/backups/deployment/web
"$RESTIC" -r "$REPO" init -q >/dev/null
python3 "$HERE/make_tree.py" "$WORK/src" 1
backup() {  # HOST: the new snapshot's id
  local out
  out=$("$RESTIC" -r "$REPO" backup -q --json --host "$1" "$WORK/src") || fail "restic backup --host $1"
  python3 -c 'import json,sys; print([json.loads(l) for l in sys.stdin if "snapshot_id" in l][-1]["snapshot_id"])' <<<"$out"
}
first=$(backup web)
cp -a "$WORK/src" "$WORK/v1"
echo "second version" > "$WORK/src/small.txt"
rm "$WORK/src/docs/tab"$'\t'"name"
mkdir "$WORK/src/new" && head -c 100000 /dev/urandom > "$WORK/src/new/random.bin"
second=$(backup web)
cp -a "$WORK/src" "$WORK/v2"
echo "third, of another host" > "$WORK/src/small.txt"
third=$(backup other)
echo "ran: restic backups ${first:0:8} ${second:0:8} (host web), ${third:0:8} (host other) into $REPO"

k -n demo create secret generic repo-secret --from-literal=RESTIC_PASSWORD="$RESTIC_PASSWORD" >/dev/null
k -n demo create secret generic wrong-secret --from-literal=RESTIC_PASSWORD=not-the-password >/dev/null
repository() {  # NAME SECRET
  cat <<EOR
apiVersion: stash.appscode.com/v1alpha1
kind: Repository
metadata:
  name: $1
  namespace: demo
  labels: {restic: web-backup, workload-kind: Deployment, workload-name: web}
spec:
  backend:
    storageSecretName: $2
    local: {mountPath: $WORK/repository, subPath: deployment/web, hostPath: {path: $WORK/backups}}
EOR
}
{ repository deployment.web repo-secret; echo ---; repository deployment.wrongpw wrong-secret
  echo ---; repository deployment.nosecret missing-secret; } | k apply -f - >/dev/null

cp_token_kubeconfig stash stash-operator "$WORK/operator.kubeconfig"
"$STASH" operator --kubeconfig "$WORK/operator.kubeconfig" --lease-namespace stash --no-webhook \
  --image stash:test > "$WORK/operator.log" 2>&1 &
OPERATOR_PID=$!
wait_until 60 grep -q "Recovery controller running" "$WORK/operator.log" ||
  { cat "$WORK/operator.log"; k -n stash get lease -o yaml || true; fail "the Recovery controller did not start"; }
echo "ran: stash operator --kubeconfig (service account stash/stash-operator) --image stash:test"

recovery() {  # NAME REPOSITORY TARGET [SNAPSHOT]
  cat <<EOR
apiVersion: stash.appscode.com/v1alpha1
kind: Recovery
metadata: {name: $1, namespace: demo}
spec:
  repository: {name: $2, namespace: demo}
  ${4:+snapshot: $4}
  paths: [$WORK/src]
  recoveredVolumes:
  - mountPath: $WORK/src
    hostPath: {path: $3, type: DirectoryOrCreate}
EOR
}
phase() { jp "recovery/$1" '{.status.phase}'; }
finished() { local p; p=$(phase "$1"); [ "$p" = Succeeded ] || [ "$p" = Failed ]; }
wait_finished() {  # NAME
  wait_until 180 finished "$1" || {
    tail -20 "$WORK/operator.log"; k -n demo get jobs,pods -o wide || true
    cat "$STATE"/demo_stash-recovery-"$1"-*/stash.log 2>/dev/null || true
    fail "Recovery $1 did not finish: phase '$(phase "$1")'"; }
}
events() {  # NAME: "TYPE REASON" lines of the Events about the Recovery
  k -n demo get events --field-selector "involvedObject.kind=Recovery,involvedObject.name=$1" \
    -o jsonpath='{range .items[*]}{.type} {.reason} x{.count}{"\n"}{end}' 2>/dev/null || true
}
events_are() { [ "$(events "$1")" = "$2" ]; }  # NAME WANT
job_of() { jp "job/stash-recovery-$1" '{.metadata.name}'; }

# --- the latest snapshot of host web ---
recovery latest deployment.web "$WORK/restored-latest" | k apply -f - >/dev/null
wait_finished latest
[ "$(phase latest)" = Succeeded ] || { cat "$STATE"/demo_stash-recovery-latest-*/stash.log; fail "latest: $(jp recovery/latest '{.status}')"; }
python3 "$HERE/compare_trees.py" "$WORK/v2" "$WORK/restored-latest" || fail "the restored tree differs from the second backup"
[ "$(stat -c '%a %Y' "$WORK/restored-latest")" = "$(stat -c '%a %Y' "$WORK/v2")" ] ||
  fail "the path's own folder: $(stat -c '%a %Y' "$WORK/restored-latest") != $(stat -c '%a %Y' "$WORK/v2")"
stats=$(jp recovery/latest '{.status.stats[0].path} {.status.stats[0].phase}')
[ "$stats" = "$WORK/src Succeeded" ] || fail "status.stats: $stats"
[ "$(jp recovery/latest '{.status.reason}')" = SuccessfulRecovery ] || fail "reason: $(jp recovery/latest '{.status}')"
has_events() { local ev; ev=$(events latest); grep -q "^Normal SuccessfulRecovery x1" <<<"$ev"; }
wait_until 30 has_events || fail "Events: $(events latest)"
ev=$(events latest)
# One Event per change, in order Pending, Running (when the node was seen running the pod), Succeeded.
grep -q "^Normal RecoveryJobCreated x1$" <<<"$ev" && ! grep -q "^Warning" <<<"$ev" &&
  [ "$(grep -vc -e "^Normal RecoveryJobCreated x1$" -e "^Normal RecoveryJobRunning x1$" -e "^Normal SuccessfulRecovery x1$" <<<"$ev")" = 0 ] ||
  fail "Events: $ev"
owner=$(jp job/stash-recovery-latest '{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].uid}')
[ "$owner" = "Recovery/$(jp recovery/latest '{.metadata.uid}')" ] || fail "the Job's owner: $owner"
echo "ran: Recovery latest -> Job $(job_of latest), Events: $(tr '\n' ';' <<<"$ev")"
pass "the newest snapshot of host web (${second:0:8}, not ${third:0:8} of host other) restored exactly; Succeeded"

# --- a named snapshot ---
recovery first deployment.web "$WORK/restored-first" "deployment.web-${first:0:8}" | k apply -f - >/dev/null
wait_finished first
[ "$(phase first)" = Succeeded ] || fail "first: $(jp recovery/first '{.status}')"
python3 "$HERE/compare_trees.py" "$WORK/v1" "$WORK/restored-first" || fail "the restored tree differs from the first backup"
pass "Recovery naming deployment.web-${first:0:8} restores that snapshot"

# --- bad input: Failed with a reason and a Warning Event, no Job ---
refused() {  # NAME REPOSITORY SNAPSHOT WANT-IN-MESSAGE
  recovery "$1" "$2" "$WORK/unused-$1" "$3" | k apply -f - >/dev/null
  wait_finished "$1"
  local status message
  status=$(jp "recovery/$1" '{.status.phase} {.status.reason}')
  message=$(jp "recovery/$1" '{.status.message}')
  [ "$status" = "Failed InvalidRecovery" ] || fail "$1: status $status ($message)"
  [[ "$message" == *"$4"* ]] || fail "$1: message '$message' does not name '$4'"
  wait_until 30 events_are "$1" "Warning InvalidRecovery x1" || fail "$1: Events $(events "$1")"
  [ -z "$(job_of "$1")" ] || fail "$1: a Job was made"
  echo "ran: Recovery $1 -> Failed: $message"
}
refused no-repository deployment.missing "" "Repository demo/deployment.missing not found"
refused no-secret deployment.nosecret "" "Secret demo/missing-secret (the storage Secret of Repository demo/deployment.nosecret) not found"
refused no-snapshot deployment.web deployment.web-deadbeef "snapshot deployment.web-deadbeef not found in Repository demo/deployment.web"
# Touched again (no spec change): nothing is retried. The queue takes keys
# in order, so once a later Recovery is done, the touched one was seen.
version=$(jp recovery/no-repository '{.metadata.resourceVersion}')
k -n demo annotate recovery no-repository touched=yes >/dev/null
recovery marker deployment.missing "$WORK/unused-marker" | k apply -f - >/dev/null
wait_finished marker
[ "$(events no-repository)" = "Warning InvalidRecovery x1" ] || fail "a touched Recovery was refused again: $(events no-repository)"
[ "$(jp recovery/no-repository '{.status.observedGeneration}')" = 1 ] || fail "observedGeneration"
[ "$(jp recovery/no-repository '{.metadata.resourceVersion}')" != "$version" ] || fail "the annotation did not land"
pass "a missing Repository, a missing Secret, a missing snapshot: Failed/InvalidRecovery, one Warning Event, no Job, no retry"

# --- a wrong password: the Job fails at once, the reason comes from its pod ---
recovery wrong-password deployment.wrongpw "$WORK/unused-wrong" | k apply -f - >/dev/null
wait_finished wrong-password
status=$(jp recovery/wrong-password '{.status.phase} {.status.reason}')
message=$(jp recovery/wrong-password '{.status.message}')
[ "$status" = "Failed FailedRecovery" ] || fail "wrong-password: $status ($message)"
[[ "$message" == *"wrong password or no key found"* ]] || fail "wrong-password: the message does not say why: $message"
failed_event() { grep -q "^Warning FailedRecovery" <<<"$(events wrong-password)"; }
wait_until 30 failed_event || fail "wrong-password Events: $(events wrong-password)"
pods=$(k -n demo get pods -l recovery=wrong-password -o name | wc -l)
[ "$pods" = 1 ] || fail "wrong-password: $pods pods ran; exit 2 must fail the Job at once"
echo "ran: Recovery wrong-password -> Job failed: $message"
pass "a wrong password: the Job fails without retries, Failed/FailedRecovery naming the wrong password"

# --- a deleted Recovery takes its Job along ---
k -n demo delete recovery latest >/dev/null
wait_until 120 bash -c "[ -z \"\$('$KUBECTL' -n demo get job stash-recovery-latest -o name 2>/dev/null)\" ]" ||
  fail "the Job of a deleted Recovery is still there"
pass "deleting a Recovery deletes its Job"
kill -0 "$OPERATOR_PID" || fail "the operator died"
echo "operator-recovery: all checks passed"
