#!/usr/bin/env bash
# An offline Restic (`spec.type: offline`) on a real control plane: etcd,
# kube-apiserver, the controller manager (Deployment, StatefulSet, Job and
# CronJob controllers, the garbage collector) and the scheduler, with
# test/tools/test_node.py running the pods as local processes of the stash
# binary. `stash operator` runs as the manifests' service account. Checked:
# - the stash init container is injected (the pods' service account bound
#   to stash-sidecar by the operator), and the CronJob
#   stash-scaledown-cron-<restic> exists with the Restic's schedule, 0.8.3's
#   labels, the Restic as controlling owner, its service account bound to
#   stash-scaledown; paused suspends it;
# - a Deployment of 2 replicas starts through the test node, each init
#   container backs up: the Repository object and snapshots that restic
#   0.14 lists;
# - `kubectl create job --from=cronjob/...` as a user would: the Job's pod
#   runs `stash scaledown` as the CronJob's account, the Deployment goes to
#   0 with old-replica kept, back to 2, a new snapshot, the annotation gone;
# - an interrupted run (replicas 0, old-replica 2) is finished by the next;
# - a backup that cannot run (a wrong password): the run fails naming the
#   workload and its init container, the count is restored;
# - a StatefulSet of 1: its pod is replaced and backs up again;
# - the CronJob's own schedule runs it (@every 1m);
# - `stash scaledown --restic-name missing` fails naming it;
# - a Restic switched to online loses its CronJob; a Restic deleted while
#   the operator is down loses it to the garbage collector.
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
exists() { k -n demo get "$1" -o name >/dev/null 2>&1; }
gone() { ! exists "$1"; }
dump() {  # what helps to see why a check failed
  echo "--- operator log"; tail -30 "$WORK/operator.log" || true
  echo "--- pods"; k -n demo get pods -o wide || true
  echo "--- events"; k -n demo get events --sort-by=.lastTimestamp | tail -30 || true
  local f; for f in "$STATE"/demo_*/stash.log; do [ -f "$f" ] && { echo "--- $f"; tail -15 "$f"; }; done
}
die() { dump; fail "$*"; }

cp_start_node test-node-1 "$STATE" "$WORK/test-node.log" || fail "node test-node-1 never became Ready"

# The operator's service account and RBAC (stash-scaledown among them), not
# its Deployment: the test node would run that, and this test runs it.
manifest_without_workloads "$HERE/../../manifests/05-operator.yaml" "$WORK/operator-rbac.yaml"
k apply -f "$WORK/operator-rbac.yaml" >/dev/null
k create namespace demo >/dev/null
wait_until 60 k -n demo get serviceaccount default -o name >/dev/null 2>&1 || fail "no default service account"
k -n demo create secret generic repo-secret --from-literal=RESTIC_PASSWORD="$RESTIC_PASSWORD" >/dev/null

cp_token_kubeconfig stash stash-operator "$WORK/operator.kubeconfig"
start_operator() {
  "$STASH" operator --kubeconfig "$WORK/operator.kubeconfig" --lease-namespace stash --no-webhook \
    --image stash:test >> "$WORK/operator.log" 2>&1 &
  OPERATOR_PID=$!
  wait_until 60 grep -q "Restic controller running" "$WORK/operator.log" || die "the Restic controller did not start"
}
start_operator
echo "ran: stash operator --kubeconfig (service account stash/stash-operator) --no-webhook --image stash:test"

mkdir -p "$WORK/data/sub" "$WORK/db-data" "$WORK/backups"
echo "first" > "$WORK/data/a.txt"
head -c 200000 /dev/urandom > "$WORK/data/sub/blob.bin"
echo "table" > "$WORK/db-data/table"
restic_object() {  # NAME APP DATA-FOLDER SCHEDULE [TYPE]
  cat <<EOR
apiVersion: stash.appscode.com/v1alpha1
kind: Restic
metadata: {name: $1, namespace: demo}
spec:
  type: ${5:-offline}
  selector: {matchLabels: {app: $2}}
  schedule: "$4"
  fileGroups: [{path: $3, retentionPolicyName: keep}]
  backend:
    storageSecretName: repo-secret
    local: {mountPath: $WORK/backups, hostPath: {path: $WORK/backups}}
  volumeMounts: [{name: data, mountPath: $3}]
  retentionPolicies: [{name: keep, keepLast: 20}]
EOR
}
# A yearly schedule first, so that only the runs this test starts happen.
restic_object web-offline web "$WORK/data" "0 0 1 1 *" | k apply -f - >/dev/null
k apply -f - >/dev/null <<EOD
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: demo, labels: {app: web}}
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: busybox, command: [sleep, "3600"], volumeMounts: [{name: data, mountPath: $WORK/data}]}]
      volumes: [{name: data, hostPath: {path: $WORK/data}}]
EOD

# --- the init container and the CronJob ---
init_names() { jp deployment/web '{.spec.template.spec.initContainers[*].name}'; }
wait_until 60 bash -c "$(declare -f k jp init_names); KUBECTL='$KUBECTL'; [ \"\$(init_names)\" = stash ]" ||
  die "no stash init container in deployment/web"
containers=$(jp deployment/web '{.spec.template.spec.containers[*].name}')
[ "$containers" = app ] || die "containers of deployment/web: $containers"
args=$(jp deployment/web '{.spec.template.spec.initContainers[0].args}')
[ "$args" = '["backup","--restic-name=web-offline","--workload-kind=Deployment","--workload-name=web"]' ] ||
  die "init container args: $args"
binding=$(jp rolebinding/stash-sidecar-deployment-web '{.roleRef.name}/{.subjects[0].name}')
[ "$binding" = stash-sidecar/default ] || die "the pods' service account is not bound to stash-sidecar: '$binding'"
pass "offline: the stash init container (one session, no --run-via-cron) in deployment/web: $args; default bound to stash-sidecar"

CJ=cronjob/stash-scaledown-cron-web-offline
wait_until 60 exists "$CJ" || die "no $CJ"
[ "$(jp "$CJ" '{.spec.schedule}')" = "0 0 1 1 *" ] || die "schedule: $(jp "$CJ" '{.spec.schedule}')"
labels=$(jp "$CJ" '{.metadata.labels.app},{.metadata.labels.restic},{.metadata.labels.operation}')
[ "$labels" = stash,web-offline,scale-down ] || die "CronJob labels (app, restic, operation): $labels"
restic_uid=$(jp restic/web-offline '{.metadata.uid}')
owner=$(jp "$CJ" '{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].uid}/{.metadata.ownerReferences[0].controller}')
[ "$owner" = "Restic/web-offline/$restic_uid/true" ] || die "CronJob owner: $owner"
[ "$(jp "$CJ" '{.spec.suspend}')" = false ] || die "suspend: $(jp "$CJ" '{.spec.suspend}')"
job_args=$(jp "$CJ" '{.spec.jobTemplate.spec.template.spec.containers[0].args}')
[ "$job_args" = '["scaledown","--restic-name=web-offline"]' ] || die "CronJob args: $job_args"
[ "$(jp "$CJ" '{.spec.jobTemplate.spec.template.spec.containers[0].image}')" = stash:test ] || die "CronJob image"
account=$(jp "$CJ" '{.spec.jobTemplate.spec.template.spec.serviceAccountName}')
exists "serviceaccount/$account" || die "no service account $account"
role=$(jp "rolebinding/$account" '{.roleRef.kind}/{.roleRef.name}/{.subjects[0].name}')
[ "$role" = "ClusterRole/stash-scaledown/$account" ] || die "RoleBinding $account: $role"
pass "$CJ: schedule '0 0 1 1 *', labels app,restic,operation = $labels, owned by Restic web-offline, runs $job_args as $account ($role)"

k -n demo patch restic web-offline --type=merge -p '{"spec":{"paused":true}}' >/dev/null
wait_until 30 bash -c "[ \"\$('$KUBECTL' -n demo get $CJ -o jsonpath='{.spec.suspend}')\" = true ]" ||
  die "paused Restic: CronJob not suspended"
k -n demo patch restic web-offline --type=merge -p '{"spec":{"paused":false}}' >/dev/null
wait_until 30 bash -c "[ \"\$('$KUBECTL' -n demo get $CJ -o jsonpath='{.spec.suspend}')\" = false ]" ||
  die "resumed Restic: CronJob still suspended"
pass "paused: true suspends the CronJob, false resumes it"

# --- the pods back up as they start ---
k -n demo scale deployment web --replicas=2 >/dev/null
rolled_out() {  # DEPLOYMENT N: N replicas, all updated and ready, nothing else
  local s; s=$(jp "deployment/$1" '{.spec.replicas}/{.status.replicas}/{.status.updatedReplicas}/{.status.readyReplicas}')
  [ "$s" = "$2/$2/$2/$2" ] || return 1
  [ "$(k -n demo get pods -l "app=$1" -o name 2>/dev/null | wc -l)" = "$2" ]
}
wait_until 180 rolled_out web 2 || die "deployment/web did not run 2 ready replicas"
REPO=$WORK/backups/deployment/web
snapshots() {  # REPO: how many snapshots restic 0.14 lists
  local out; out=$("$RESTIC" -r "$1" snapshots --json --no-lock 2>/dev/null) || { echo 0; return; }
  python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$out"
}
exists repository/deployment.web || die "no Repository deployment.web"
before=$(snapshots "$REPO")
[ "$before" -ge 1 ] || die "restic lists no snapshot in $REPO"
hosts=$("$RESTIC" -r "$REPO" snapshots --json --no-lock | python3 -c 'import json,sys; print(sorted({s["hostname"] for s in json.load(sys.stdin)}))')
[ "$hosts" = "['web']" ] || die "snapshot hosts: $hosts"
pass "2 replicas started through the test node; their init containers made Repository deployment.web and $before snapshot(s) restic lists (host web)"

# --- a run of the CronJob, started as a user would ---
old_pods=$(k -n demo get pods -l app=web -o jsonpath='{.items[*].metadata.uid}')
k -n demo create job --from="$CJ" manual-1 >/dev/null
scaled_down() { [ "$(jp deployment/web '{.metadata.annotations.old-replica}/{.spec.replicas}')" = "2/0" ]; }
wait_until 120 scaled_down || die "deployment/web was not scaled to 0 with old-replica 2"
job_done() { [ "$(jp "job/$1" '{.status.succeeded}')" = 1 ]; }
wait_until 300 job_done manual-1 || die "Job manual-1 did not succeed"
wait_until 60 rolled_out web 2 || die "deployment/web is not back at 2 ready replicas"
[ -z "$(jp deployment/web '{.metadata.annotations.old-replica}')" ] || die "old-replica left on deployment/web"
after=$(snapshots "$REPO")
[ "$after" -gt "$before" ] || die "no new snapshot: $before before, $after after"
new_pods=$(k -n demo get pods -l app=web -o jsonpath='{.items[*].metadata.uid}')
for uid in $old_pods; do [[ " $new_pods " != *" $uid "* ]] || die "pod $uid survived the scale-down"; done
reasons=$(k -n demo get events --field-selector involvedObject.name=web,involvedObject.kind=Deployment -o jsonpath='{range .items[*]}{.reason}{"\n"}{end}')
grep -qx ScaledDown <<<"$reasons" && grep -qx ScaledUp <<<"$reasons" || die "Events on deployment/web: $reasons"
job_pod=$(k -n demo get pods -l job-name=manual-1 -o jsonpath='{.items[0].metadata.name}')
[ "$(k -n demo get pod "$job_pod" -o jsonpath='{.spec.serviceAccountName}')" = "$account" ] || die "Job pod's account"
echo "ran: kubectl create job --from=$CJ manual-1; its pod $job_pod logged:"
sed 's/^/    /' "$STATE/demo_$job_pod/stash.log"
pass "manual-1: deployment/web 2 -> 0 (old-replica 2) -> 1 -> 2, new pods, snapshots $before -> $after, old-replica gone, Events ScaledDown and ScaledUp"

# --- an interrupted run: the next one restores the count it kept ---
k -n demo annotate deployment web old-replica=2 >/dev/null
k -n demo scale deployment web --replicas=0 >/dev/null
cp_token_kubeconfig demo "$account" "$WORK/scaledown.kubeconfig"
before=$(snapshots "$REPO")
"$STASH" scaledown --restic-name web-offline --namespace demo --kubeconfig "$WORK/scaledown.kubeconfig" \
  > "$WORK/resume.log" 2>&1 || { cat "$WORK/resume.log"; die "stash scaledown after an interrupted run failed"; }
rolled_out web 2 || die "deployment/web not back at 2 after the interrupted run was finished"
[ -z "$(jp deployment/web '{.metadata.annotations.old-replica}')" ] || die "old-replica left after resuming"
after=$(snapshots "$REPO")
[ "$after" -gt "$before" ] || die "no new snapshot when resuming"
echo "ran: stash scaledown --restic-name web-offline (as $account) on deployment/web at 0 replicas with old-replica 2"
pass "an interrupted run (0 replicas, old-replica 2) is finished by the next: 2 replicas, snapshots $before -> $after"

# --- a backup that fails: the run fails naming the workload, the count comes back ---
set_password() { k -n demo create secret generic repo-secret --from-literal=RESTIC_PASSWORD="$1" --dry-run=client -o yaml |
  k apply -f - >/dev/null; }
set_password not-the-password
if "$STASH" scaledown --restic-name web-offline --namespace demo --kubeconfig "$WORK/scaledown.kubeconfig" \
    --wait-timeout 20s > "$WORK/failing.log" 2>&1; then
  cat "$WORK/failing.log"; die "stash scaledown succeeded although the backup cannot run"
fi
failure=$(tail -1 "$WORK/failing.log")
[[ "$failure" == Fatal:*"Deployment demo/web to become ready"*"init container stash exited 1"*"back at 2 replicas" ]] ||
  { cat "$WORK/failing.log"; die "the error does not name deployment/web and its init container: $failure"; }
[ "$(jp deployment/web '{.spec.replicas}')" = 2 ] || die "replicas not restored after the failed backup"
[ -z "$(jp deployment/web '{.metadata.annotations.old-replica}')" ] || die "old-replica left after the failed run"
warned() { [[ "$(k -n demo get events --field-selector involvedObject.name=web,reason=FailedToRestart -o jsonpath='{.items[*].message}')" == *"timed out"* ]]; }
wait_until 30 warned || die "no FailedToRestart Event on deployment/web"
set_password "$RESTIC_PASSWORD"
wait_until 120 rolled_out web 2 || die "deployment/web did not recover once the password was right again"
echo "ran: stash scaledown --wait-timeout 20s with the Secret's password wrong:"
sed 's/^/    /' "$WORK/failing.log"
pass "a backup that cannot run: exit non-zero naming deployment/web, 2 replicas restored, old-replica gone, Event FailedToRestart"

# --- bad input ---
if "$STASH" scaledown --restic-name missing --namespace demo --kubeconfig "$KUBECONFIG" > "$WORK/missing.log" 2>&1; then
  die "stash scaledown --restic-name missing succeeded"
fi
grep -q "Restic demo/missing not found" "$WORK/missing.log" || die "message: $(cat "$WORK/missing.log")"
pass "stash scaledown --restic-name missing: exit non-zero, $(tail -1 "$WORK/missing.log")"

# --- a StatefulSet of 1 ---
restic_object db-offline db "$WORK/db-data" "0 0 1 1 *" | k apply -f - >/dev/null
k apply -f - >/dev/null <<EOD
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: demo, labels: {app: db}}
spec:
  replicas: 1
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: busybox, command: [sleep, "3600"], volumeMounts: [{name: data, mountPath: $WORK/db-data}]}]
      volumes: [{name: data, hostPath: {path: $WORK/db-data}}]
EOD
DB_REPO=$WORK/backups/statefulset/db-0
db_ready() {
  [ "$(jp statefulset/db '{.status.readyReplicas}/{.status.updatedReplicas}')" = 1/1 ] &&
    [ "$(jp pod/db-0 '{.spec.initContainers[0].name}')" = stash ] && [ "$(jp pod/db-0 '{.status.phase}')" = Running ]
}
wait_until 180 db_ready || die "statefulset/db did not run its pod with the init container"
db_before=$(snapshots "$DB_REPO")
[ "$db_before" -ge 1 ] || die "no snapshot in $DB_REPO"
db_uid=$(jp pod/db-0 '{.metadata.uid}')
wait_until 60 exists cronjob/stash-scaledown-cron-db-offline || die "no CronJob for db-offline"
k -n demo create job --from=cronjob/stash-scaledown-cron-db-offline manual-2 >/dev/null
wait_until 300 job_done manual-2 || die "Job manual-2 did not succeed"
db_ready || die "statefulset/db not ready after manual-2"
[ "$(jp pod/db-0 '{.metadata.uid}')" != "$db_uid" ] || die "pod db-0 was not replaced"
db_after=$(snapshots "$DB_REPO")
[ "$db_after" -gt "$db_before" ] || die "no new snapshot of db-0: $db_before -> $db_after"
reasons=$(k -n demo get events --field-selector involvedObject.name=db,involvedObject.kind=StatefulSet -o jsonpath='{.items[*].reason}')
[[ " $reasons " == *" Restarted "* ]] || die "Events on statefulset/db: $reasons"
pass "statefulset/db: manual-2 replaced pod db-0, which backed up again ($DB_REPO: $db_before -> $db_after), Event Restarted"

# --- the CronJob's own schedule ---
before=$(snapshots "$REPO")
restic_object web-offline web "$WORK/data" "@every 1m" | k apply -f - >/dev/null
wait_until 30 bash -c "[ \"\$('$KUBECTL' -n demo get $CJ -o jsonpath='{.spec.schedule}')\" = '@every 1m' ]" ||
  die "CronJob schedule not updated"
scheduled_done() {
  local names; names=$(k -n demo get jobs -l restic=web-offline,operation=scale-down -o jsonpath='{range .items[?(@.status.succeeded==1)]}{.metadata.name}{"\n"}{end}' 2>/dev/null)
  local others; others=$(grep -v '^manual-' <<<"$names" || true)
  [ -n "$others" ]
}
wait_until 240 scheduled_done || die "no scheduled Job of $CJ succeeded within 4 minutes"
k -n demo patch restic web-offline --type=merge -p '{"spec":{"paused":true}}' >/dev/null  # no more runs
wait_until 120 rolled_out web 2 || die "deployment/web not at 2 after the scheduled run"
after=$(snapshots "$REPO")
[ "$after" -gt "$before" ] || die "the scheduled run made no snapshot"
pass "schedule '@every 1m': the CronJob controller ran the scale-down itself, snapshots $before -> $after"

# --- online: no CronJob; deleted while the operator is down: the garbage collector ---
restic_object db-offline db "$WORK/db-data" "0 0 1 1 *" online | k apply -f - >/dev/null
wait_until 60 gone cronjob/stash-scaledown-cron-db-offline || die "CronJob of db-offline kept after switching to online"
wait_until 60 gone serviceaccount/stash-scaledown-cron-db-offline || die "service account of db-offline kept"
wait_until 60 gone rolebinding/stash-scaledown-cron-db-offline || die "role binding of db-offline kept"
pass "db-offline switched to online: its CronJob, service account and role binding are deleted"

stop OPERATOR_PID
k -n demo delete restic web-offline --wait=false >/dev/null
wait_until 120 gone "$CJ" || die "$CJ outlived its Restic"
wait_until 60 gone "serviceaccount/$account" || die "service account $account outlived its Restic"
wait_until 60 gone "rolebinding/$account" || die "role binding $account outlived its Restic"
pass "web-offline deleted with the operator stopped: the garbage collector removed its CronJob, account and binding"
echo "offline-restic: all checks passed"
