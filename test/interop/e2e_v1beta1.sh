#!/usr/bin/env bash
# The v1beta1 generation end to end, all through the real kube-apiserver and
# kubectl (test/controlplane with controllers), with test/tools/test_node.py
# running the pods as local processes:
#   - a 2-replica Deployment and a 2-pod StatefulSet, each with a
#     BackupConfiguration (Repositories with local backends); the operator
#     injects the run-backup sidecar;
#   - BackupSessions created with kubectl (Deployment) and by the CronJob
#     (StatefulSet, schedule */1): `kubectl get backupsessions` shows them
#     Succeeded, host-0 for the Deployment (one replica, the Lease holder,
#     backs up), host-0 and host-1 for the StatefulSet; restic sees those
#     hosts in one repository per target; the snapshots are listed through
#     the aggregator; paused, the CronJob's command makes no session;
#   - a RestoreSession into a fresh Deployment: its init container restores
#     host-0's newest /data, identical to the source (diff -r); one whose
#     rule names a host without snapshots is Failed naming it, and its pod
#     still starts (no crash loop);
#   - the sidecars' metrics reach a real Pushgateway (when installed);
#   - restic 0.14 check --read-data passes on both repositories.
source "$(dirname "$0")/lib.sh"
source "$HERE/../controlplane/lib.sh"
command -v "$RESTIC" >/dev/null || { echo "SKIP: restic is not installed"; exit 77; }
cp_require_node

STATE=$WORK/node
cp_start_for_test "$WORK/cp" --controllers
k() { "$KUBECTL" --request-timeout=60s "$@"; }
jp() { k -n demo get "$1" -o "jsonpath=$2" 2>/dev/null || true; }  # jp KIND/NAME JSONPATH
logs() {
  tail -30 "$WORK/operator.log" "$WORK/apiserver.log" "$WORK/test-node.log" 2>/dev/null || true
  for f in "$STATE"/demo_*/stash*.log; do [ -f "$f" ] && { echo "--- $f"; tail -15 "$f"; }; done
}
cp_start_node e2e-node "$STATE" "$WORK/test-node.log" || fail "the test node never became Ready"
# The sidecars push their metrics to a real Pushgateway when there is one.
PUSHGATEWAY=$(command -v prometheus-pushgateway || true) PGW=""
if [ -n "$PUSHGATEWAY" ]; then
  pgw_port=$(_cp_free_port)
  "$PUSHGATEWAY" --web.listen-address="127.0.0.1:$pgw_port" > "$WORK/pushgateway.log" 2>&1 &
  pids+=($!)
  PGW=http://127.0.0.1:$pgw_port
  wait_until 30 curl -sf "$PGW/-/ready" -o /dev/null || { cat "$WORK/pushgateway.log"; fail "the Pushgateway did not start"; }
fi
start_stash_servers stash:e2e ${PGW:+--pushgateway-url "$PGW"} || { logs; fail "the Stash servers did not start"; }
pass "apiserver (APIService Available), operator (webhook registered) and test node running"

k create namespace demo >/dev/null
wait_until 60 k -n demo get serviceaccount default -o name >/dev/null 2>&1 || fail "no default service account in demo"
k -n demo create secret generic repo-secret --from-literal=RESTIC_PASSWORD="$RESTIC_PASSWORD" >/dev/null
mkdir -p "$WORK/backups" "$WORK/web-data/sub" "$WORK/db-data" "$WORK/restored"
for i in 1 2 3; do head -c $((i * 70000)) /dev/urandom > "$WORK/web-data/file-$i"; done
echo "nested" > "$WORK/web-data/sub/note.txt"
ln -s file-1 "$WORK/web-data/link"
echo "rows" > "$WORK/db-data/table"

repository() {  # NAME SUBPATH
  cat <<EOR
apiVersion: stash.appscode.com/v1alpha1
kind: Repository
metadata: {name: $1, namespace: demo}
spec:
  backend:
    storageSecretName: repo-secret
    local: {mountPath: /stash-backup, subPath: $2, hostPath: {path: $WORK/backups}}
EOR
}
backupconfiguration() {  # NAME KIND TARGET REPOSITORY SCHEDULE
  cat <<EOR
apiVersion: stash.appscode.com/v1beta1
kind: BackupConfiguration
metadata: {name: $1, namespace: demo}
spec:
  schedule: "$5"
  repository: {name: $4}
  target:
    ref: {apiVersion: apps/v1, kind: $2, name: $3}
    paths: [/data]
    volumeMounts: [{name: data, mountPath: /data}]
  retentionPolicy: {name: keep-last-5, keepLast: 5, prune: true}
EOR
}
workload() {  # KIND NAME REPLICAS DATA-DIR
  local extra=""
  [ "$1" = StatefulSet ] && extra="serviceName: $2"
  cat <<EOD
apiVersion: apps/v1
kind: $1
metadata: {name: $2, namespace: demo}
spec:
  replicas: $3
  $extra
  selector: {matchLabels: {app: $2}}
  template:
    metadata: {labels: {app: $2}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - {name: app, image: busybox, command: [sleep, "3600"], volumeMounts: [{name: data, mountPath: /data}]}
      volumes: [{name: data, hostPath: {path: $4}}]
EOD
}
{ repository web-repo web; echo ---; repository db-repo db; echo ---
  backupconfiguration web-backup Deployment web web-repo "0 3 1 1 *"; echo ---
  backupconfiguration db-backup StatefulSet db db-repo "*/1 * * * *"; } | k apply -f - >/dev/null
wait_until 60 k -n demo get cronjob web-backup db-backup -o name >/dev/null 2>&1 || { logs; fail "no CronJobs for the BackupConfigurations"; }
args=$(jp cronjob/db-backup '{.spec.jobTemplate.spec.template.spec.containers[0].args}')
[[ "$args" == *create-backupsession* ]] || fail "CronJob db-backup runs $args"
{ workload Deployment web 2 "$WORK/web-data"; echo ---; workload StatefulSet db 2 "$WORK/db-data"; } | k apply -f - >/dev/null

# Every pod of the workload Running with the sidecar, and no other pod left.
with_sidecar() {  # APP COUNT
  local lines
  lines=$(jp pods "{range .items[?(@.metadata.labels.app==\"$1\")]}{.status.phase}:{.spec.containers[*].name}{\"\\n\"}{end}")
  [ "$(grep -c . <<<"$lines")" = "$2" ] && [ "$(grep -c '^Running:.*\bstash\b' <<<"$lines")" = "$2" ]
}
wait_until 180 with_sidecar web 2 || { logs; k -n demo get pods -o wide; fail "deployment/web: not 2 pods with the sidecar"; }
wait_until 180 with_sidecar db 2 || { logs; k -n demo get pods -o wide; fail "statefulset/db: not 2 pods with the sidecar"; }
sidecar_args=$(jp deployment/web '{.spec.template.spec.containers[?(@.name=="stash")].args}')
[[ "$sidecar_args" == *run-backup* && "$sidecar_args" == *--backupconfiguration=web-backup* ]] ||
  fail "the sidecar runs $sidecar_args"
pass "deployment/web and statefulset/db: every pod runs the run-backup sidecar"

phase() { jp "backupsession/$1" '{.status.phase}'; }
finished() { local p; p=$(phase "$1"); [ "$p" = Succeeded ] || [ "$p" = Failed ] || [ "$p" = Skipped ]; }
wait_finished() {  # NAME
  wait_until 180 finished "$1" || { logs; k -n demo get backupsession "$1" -o yaml; fail "BackupSession $1: phase '$(phase "$1")'"; }
  [ "$(phase "$1")" = Succeeded ] || { logs; fail "BackupSession $1: $(jp "backupsession/$1" '{.status}')"; }
}
hosts_of() { jp "backupsession/$1" '{range .status.stats[*]}{.hostname}:{.phase}{" "}{end}'; }
new_session() {  # NAME BC
  printf 'apiVersion: stash.appscode.com/v1beta1\nkind: BackupSession\nmetadata: {name: %s, namespace: demo}\nspec:\n  backupConfiguration: {name: %s}\n' "$1" "$2" |
    k create -f - >/dev/null
}
restic_hosts() {  # SUBPATH
  "$RESTIC" -r "$WORK/backups/$1" snapshots --json --no-lock 2>/dev/null |
    python3 -c 'import json,sys; print(" ".join(sorted({s["hostname"] for s in json.load(sys.stdin)})))'
}

# --- the Deployment: sessions made with kubectl ---
new_session web-1 web-backup
wait_finished web-1
[ "$(hosts_of web-1)" = "host-0:Succeeded " ] || fail "web-1 stats: $(hosts_of web-1)"
[ "$(jp backupsession/web-1 '{.status.totalHosts} {.status.stats[0].snapshots[0].path}')" = "1 /data" ] ||
  fail "web-1: $(jp backupsession/web-1 '{.status}')"
echo "new-file" > "$WORK/web-data/sub/new.txt"
new_session web-2 web-backup
wait_finished web-2
[ "$(hosts_of web-2)" = "host-0:Succeeded " ] || fail "web-2 stats: $(hosts_of web-2)"
[ "$(restic_hosts web)" = host-0 ] || fail "restic sees hosts '$(restic_hosts web)' in the web repository"
holder=$(jp lease/lock-deployment-web-backup '{.spec.holderIdentity}')
pods=$(jp pods '{.items[?(@.metadata.labels.app=="web")].metadata.name}')
[[ -n "$holder" && " $pods " == *" $holder "* ]] || fail "lease holder '$holder' is not a web pod ($pods)"
[ "$(jp repository/web-repo '{.status.backupCount}')" = 2 ] || fail "Repository web-repo: $(jp repository/web-repo '{.status}')"
pass "deployment/web: 2 sessions made with kubectl Succeeded, host-0 only (backed up by the Lease holder $holder)"
if [ -n "$PGW" ]; then
  curl -sf "$PGW/metrics" > "$WORK/metrics.txt" || fail "the Pushgateway answers no metrics"
  metric() {  # NAME: its value for web-backup's host-0
    grep "^$1{" "$WORK/metrics.txt" | grep 'backup_configuration="web-backup"' | grep 'host="host-0"' |
      grep 'namespace="demo"' | awk '{print $2}'
  }
  [ "$(metric stash_backup_session_success)" = 1 ] && [ "$(metric stash_backup_files_total)" = 5 ] &&
    [ "$(metric stash_repository_snapshot_count)" = 2 ] ||
    { grep stash_ "$WORK/metrics.txt"; fail "the Pushgateway's metrics of web-backup's host-0"; }
  pass "the sidecar pushed Stash 0.9's metrics (stash_backup_session_success 1, 5 files, 2 snapshots) to the Pushgateway"
else
  echo "note: prometheus-pushgateway is not installed; the metrics are not checked"
fi

# --- the StatefulSet: a session made by the CronJob ---
# The first one the CronJob made once the StatefulSet existed: both pods
# create the repository at once. (The schedule is every minute and the
# BackupConfiguration comes first, so a minute may strike before the
# StatefulSet is there: that session must fail, naming it.)
db_sessions() {  # CREATED NAME, oldest first
  jp backupsessions '{range .items[?(@.spec.backupConfiguration.name=="db-backup")]}{.metadata.creationTimestamp}{" "}{.metadata.name}{"\n"}{end}' |
    grep . | sort
}
sts_created=$(jp statefulset/db '{.metadata.creationTimestamp}')
[ -n "$sts_created" ] || fail "statefulset/db has no creationTimestamp"
cron_session() {
  local s
  s=$(db_sessions | awk -v t="$sts_created" '$1 > t { print $2; exit }')
  [ -n "$s" ] && finished "$s" && echo "$s"
}
wait_until 200 cron_session >/dev/null || { logs; k -n demo get backupsessions,jobs,cronjobs; fail "no finished BackupSession of the CronJob"; }
db_session=$(cron_session)
[ "$(phase "$db_session")" = Succeeded ] || { logs; fail "$db_session: $(jp "backupsession/$db_session" '{.status}')"; }
[[ "$db_session" =~ ^db-backup-[0-9]+$ ]] || fail "the CronJob's session is named $db_session"
[ "$(jp "backupsession/$db_session" '{.metadata.labels.stash\.appscode\.com/backup-configuration}')" = db-backup ] ||
  fail "the CronJob's session is not labelled with its BackupConfiguration"
sorted=$(tr ' ' '\n' <<<"$(hosts_of "$db_session")" | grep . | sort | tr '\n' ' ')
[ "$sorted" = "host-0:Succeeded host-1:Succeeded " ] || fail "$db_session stats: $(hosts_of "$db_session")"
[ "$(jp "backupsession/$db_session" '{.status.totalHosts}')" = 2 ] || fail "$db_session totalHosts"
[ "$(restic_hosts db)" = "host-0 host-1" ] || fail "restic sees hosts '$(restic_hosts db)' in the db repository"
pass "statefulset/db: the CronJob's session $db_session Succeeded with host-0 and host-1"
for early in $(db_sessions | awk -v t="$sts_created" '$1 <= t { print $2 }'); do
  wait_until 60 finished "$early" || fail "$early (made before statefulset/db existed): phase '$(phase "$early")'"
  status=$(jp "backupsession/$early" '{.status.phase} {.status.conditions[0].reason}')
  [ "$status" = "Failed TargetNotFound" ] || [ "$(phase "$early")" = Succeeded ] ||
    fail "$early, made before statefulset/db existed: $status (want Failed TargetNotFound)"
  pass "$early, made as statefulset/db was being created: $status"
done

# --- paused: the CronJob's command creates no session ---
k -n demo patch backupconfiguration db-backup --type merge -p '{"spec":{"paused":true}}' >/dev/null
count_db() { jp backupsessions '{.items[?(@.spec.backupConfiguration.name=="db-backup")].metadata.name}' | wc -w; }
before=$(count_db)
k -n demo create job paused-run --from=cronjob/db-backup >/dev/null
complete() { [ "$(jp job/paused-run '{.status.succeeded}')" = 1 ]; }
wait_until 120 complete || { logs; k -n demo get job paused-run -o yaml; fail "the Job made from the CronJob did not complete"; }
grep -q "Skipping creating BackupSession: BackupConfiguration demo/db-backup is paused" "$STATE"/demo_paused-run-*/stash.log ||
  { cat "$STATE"/demo_paused-run-*/stash.log; fail "create-backupsession did not say it skipped the paused BackupConfiguration"; }
[ "$(count_db)" = "$before" ] || fail "a paused BackupConfiguration got a session: $(count_db) != $before"
pass "paused db-backup: a Job from its CronJob completed, said it skipped, and made no session"

k -n demo get backupsessions > "$WORK/sessions.txt"
cat "$WORK/sessions.txt"
grep -q "^web-1 *web-backup *Succeeded" "$WORK/sessions.txt" && grep -q "^$db_session *db-backup *Succeeded" "$WORK/sessions.txt" ||
  fail "kubectl get backupsessions does not show them Succeeded"
listed() { k get snapshots -n demo -l repository=web-repo -o name > "$WORK/snaps" && [ "$(wc -l < "$WORK/snaps")" = 2 ]; }
wait_until 30 listed || fail "kubectl lists $(wc -l < "$WORK/snaps") snapshots of web-repo, want 2: $(cat "$WORK/snaps")"
pass "kubectl get backupsessions shows them Succeeded; kubectl lists web-repo's 2 snapshots through the aggregator"

# --- restore into a fresh Deployment ---
# The Deployment first (the operator fails a RestoreSession whose target is
# missing), then the RestoreSession: its stash-init container rolls out.
workload Deployment web-restored 1 "$WORK/restored" | k apply -f - >/dev/null
restored_running() { [[ "$(jp pods '{.items[?(@.metadata.labels.app=="web-restored")].status.phase}')" == *Running* ]]; }
wait_until 120 restored_running || { logs; k -n demo get pods -o wide; fail "deployment/web-restored does not run"; }
k apply -f - >/dev/null <<EOR
apiVersion: stash.appscode.com/v1beta1
kind: RestoreSession
metadata: {name: web-restore, namespace: demo}
spec:
  repository: {name: web-repo}
  target:
    ref: {apiVersion: apps/v1, kind: Deployment, name: web-restored}
    volumeMounts: [{name: data, mountPath: /data}]
  rules:
  - sourceHost: host-0
    paths: [/data]
EOR
rphase() { jp restoresession/web-restore '{.status.phase}'; }
rfinished() { [[ "$(rphase)" =~ ^(Succeeded|Failed)$ ]]; }
wait_until 180 rfinished || { logs; k -n demo get pods -o wide; k -n demo get restoresession web-restore -o yaml; fail "RestoreSession: phase '$(rphase)'"; }
[ "$(rphase)" = Succeeded ] || { logs; fail "RestoreSession: $(jp restoresession/web-restore '{.status}')"; }
init=$(jp deployment/web-restored '{.spec.template.spec.initContainers[*].name}')
[[ " $init " == *" stash-init "* ]] || fail "deployment/web-restored has init containers '$init'"
diff -r "$WORK/web-data" "$WORK/restored" || fail "the restored files differ from the source"
pass "RestoreSession web-restore: the stash-init container restored host-0's /data into deployment/web-restored, identical (diff -r)"

# --- bad input: a rule whose source host has no snapshot ---
mkdir -p "$WORK/restored-bad"
workload Deployment web-bad 1 "$WORK/restored-bad" | k apply -f - >/dev/null
bad_running() { [[ "$(jp pods '{.items[?(@.metadata.labels.app=="web-bad")].status.phase}')" == *Running* ]]; }
wait_until 120 bad_running || { logs; fail "deployment/web-bad does not run"; }
k apply -f - >/dev/null <<EOR
apiVersion: stash.appscode.com/v1beta1
kind: RestoreSession
metadata: {name: web-restore-bad, namespace: demo}
spec:
  repository: {name: web-repo}
  target:
    ref: {apiVersion: apps/v1, kind: Deployment, name: web-bad}
    volumeMounts: [{name: data, mountPath: /data}]
  rules:
  - sourceHost: host-9
EOR
bphase() { jp restoresession/web-restore-bad '{.status.phase}'; }
bfinished() { [[ "$(bphase)" =~ ^(Succeeded|Failed)$ ]]; }
wait_until 180 bfinished || { logs; fail "RestoreSession web-restore-bad: phase '$(bphase)'"; }
[ "$(bphase)" = Failed ] || fail "web-restore-bad: $(jp restoresession/web-restore-bad '{.status}')"
berror=$(jp restoresession/web-restore-bad '{.status.stats[0].error}')
[[ "$berror" == *host-9* ]] || fail "the error does not name host-9: $(jp restoresession/web-restore-bad '{.status}')"
# The pod is not left crash-looping: its restarted init container sees the report and lets the app start.
bad_app_running() {
  local p
  p=$(jp pods '{range .items[?(@.metadata.labels.app=="web-bad")]}{.status.phase}:{.spec.initContainers[*].name}{"\n"}{end}')
  grep -q '^Running:.*stash-init' <<<"$p"
}
wait_until 120 bad_app_running || { logs; k -n demo get pods -o wide; fail "deployment/web-bad's pod with stash-init does not run"; }
[ -z "$(ls -A "$WORK/restored-bad")" ] || fail "a failed restore wrote files"
pass "a rule naming host-9: web-restore-bad Failed ($berror), nothing written, the pod runs"

for repo in web db; do
  "$RESTIC" -r "$WORK/backups/$repo" check --read-data > "$WORK/check.out" 2>&1 ||
    { cat "$WORK/check.out"; fail "restic check --read-data $repo"; }
done
pass "restic 0.14 check --read-data passes on both repositories"
