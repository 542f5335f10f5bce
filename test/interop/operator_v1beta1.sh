#!/usr/bin/env bash
# `stash operator` and the v1beta1 generation on a real control plane (etcd,
# kube-apiserver, the controller manager with the Job, CronJob and garbage
# collector controllers, the scheduler) with test/tools/test_node.py running
# the pods of the Jobs as local processes of the stash binary. The workloads'
# own pods are kept off the node (a nodeSelector no node has), so that only
# this test reports hosts: it writes their stats by hand. Checked:
# - a BackupConfiguration gets the finalizer and the CronJob of the contract
#   (schedule "@every 5m" as "*/5 * * * *", args, Forbid, the account
#   stash-v1beta1 bound to stash-v1beta1-agent); a Job made from the CronJob
#   runs `stash create-backupsession`, whose session goes Running;
# - its Deployment gets the sidecar (controller), a Deployment created
#   later gets it on admission (webhook), with the annotations and the
#   RoleBinding; deleting the BackupConfiguration takes the sidecar out,
#   drops the finalizer, and the CronJob goes with it;
# - sessions: Running with totalHosts (1 for a Deployment, spec.replicas of
#   a StatefulSet), stats written with kubectl patch --subresource=status
#   make them Succeeded (sessionDuration) or Failed, never touched again;
#   a paused BackupConfiguration's session is Skipped;
# - a RestoreSession on a workload: the init container stash-init, Running,
#   Succeeded from stats, removed with the RestoreSession;
# - the job model: a Task with two Functions on an AppBinding becomes the
#   Job stash-backup-<session> with the resolved containers (checked with
#   jq); its failing step fails the session with host-0's error;
# - auto-backup: a Deployment annotated with a BackupConfigurationTemplate
#   (stash.appscode.com/backup-blueprint, and the pre-rc.0 backup-template)
#   gets Repository and BackupConfiguration deployment-<name> with the
#   template's variables filled in; removing the annotation deletes the
#   BackupConfiguration and keeps the Repository;
# - bad input, each a Failed phase or an Event naming it: a missing
#   Function, a variable without a value, a schedule a CronJob cannot take,
#   a missing Repository, a missing BackupConfiguration.
source "$(dirname "$0")/lib.sh"
source "$HERE/../controlplane/lib.sh"
command -v jq >/dev/null || { echo "SKIP: jq is not installed"; exit 77; }
cp_require_node

STATE=$WORK/node
OPERATOR_PID=
cp_test_cleanup() { cp_stop_pid OPERATOR_PID; }
cp_start_for_test "$WORK/cp" --controllers
k() { "$KUBECTL" --request-timeout=60s "$@"; }
jp() { k -n demo get "$1" -o "jsonpath=$2" 2>/dev/null || true; }  # jp KIND/NAME JSONPATH
cp_start_node test-node-1 "$STATE" "$WORK/test-node.log" || fail "node test-node-1 never became Ready"

manifest_without_workloads "$HERE/../../manifests/05-operator.yaml" "$WORK/operator-rbac.yaml"
k apply -f "$WORK/operator-rbac.yaml" >/dev/null
k create namespace demo >/dev/null
wait_until 60 k -n demo get serviceaccount default -o name >/dev/null 2>&1 || fail "no default service account"
k -n demo create secret generic repo-secret --from-literal=RESTIC_PASSWORD="$RESTIC_PASSWORD" >/dev/null
k apply -f - >/dev/null <<EOR
apiVersion: stash.appscode.com/v1alpha1
kind: Repository
metadata: {name: repo, namespace: demo}
spec:
  backend:
    storageSecretName: repo-secret
    local: {mountPath: /safe, subPath: v1beta1, hostPath: {path: $WORK/backups}}
EOR

workload() {  # KIND NAME REPLICAS
  cat <<EOW
apiVersion: apps/v1
kind: $1
metadata: {name: $2, namespace: demo, labels: {app: $2}}
spec:
  replicas: $3
  $([ "$1" = StatefulSet ] && echo "serviceName: $2")
  selector: {matchLabels: {app: $2}}
  template:
    metadata: {labels: {app: $2}}
    spec:
      nodeSelector: {nowhere: "true"}
      containers:
      - {name: app, image: busybox, command: [sleep, "3600"], volumeMounts: [{name: data, mountPath: /data}]}
      volumes:
      - {name: data, hostPath: {path: $WORK/data/$2, type: DirectoryOrCreate}}
EOW
}
bc() {  # NAME KIND TARGET [SCHEDULE] [REPOSITORY]
  cat <<EOB
apiVersion: stash.appscode.com/v1beta1
kind: BackupConfiguration
metadata: {name: $1, namespace: demo}
spec:
  schedule: "${4:-@every 5m}"
  repository: {name: ${5:-repo}}
  target:
    ref: {apiVersion: apps/v1, kind: $2, name: $3}
    paths: [/data]
    volumeMounts: [{name: data, mountPath: /data}]
  retentionPolicy: {name: keep, keepLast: 3, prune: true}
EOB
}
session() {  # NAME BC
  printf 'apiVersion: stash.appscode.com/v1beta1\nkind: BackupSession\nmetadata: {name: %s, namespace: demo}\nspec:\n  backupConfiguration: {name: %s}\n' "$1" "$2"
}
phase() { jp "$1" '{.status.phase}'; }
phase_is() { [ "$(phase "$1")" = "$2" ]; }
wait_phase() {  # KIND/NAME PHASE
  wait_until 60 phase_is "$1" "$2" || { tail -30 "$WORK/operator.log"; fail "$1: phase '$(phase "$1")', want $2 ($(jp "$1" '{.status}'))"; }
}
events() {  # KIND NAME: "TYPE REASON MESSAGE" lines
  k -n demo get events --field-selector "involvedObject.kind=$1,involvedObject.name=$2" \
    -o jsonpath='{range .items[*]}{.type} {.reason} {.message}{"\n"}{end}' 2>/dev/null || true
}
has_event() { events "$1" "$2" | grep -q -- "$3"; }  # KIND NAME PATTERN
wait_event() { wait_until 30 has_event "$@" || fail "no Event on $1 $2 matching '$3': $(events "$1" "$2")"; }
stats() {  # KIND/NAME JSON-ARRAY
  k -n demo patch "$1" --subresource=status --type=merge -p "{\"status\":{\"stats\":$2}}" >/dev/null
}

k apply -f - >/dev/null < <(workload Deployment web 1; echo ---; workload StatefulSet db 2)

cp_token_kubeconfig stash stash-operator "$WORK/operator.kubeconfig"
port=$(_cp_free_port)
"$STASH" operator --kubeconfig "$WORK/operator.kubeconfig" --no-leader-elect --image stash:test \
  --webhook-url "https://127.0.0.1:$port" --webhook-port "$port" --webhook-bind-address 127.0.0.1 \
  > "$WORK/operator.log" 2>&1 &
OPERATOR_PID=$!
wait_until 90 grep -q "v1beta1 controller running" "$WORK/operator.log" ||
  { cat "$WORK/operator.log"; fail "the v1beta1 controller did not start"; }
echo "ran: stash operator --kubeconfig (service account stash/stash-operator) --image stash:test --webhook-url https://127.0.0.1:$port"

# --- a BackupConfiguration: finalizer, CronJob, account, sidecar ---
bc web-backup Deployment web | k apply -f - >/dev/null
has_cronjob() { k -n demo get cronjob web-backup -o name >/dev/null 2>&1; }
wait_until 30 has_cronjob || { tail -20 "$WORK/operator.log"; fail "no CronJob web-backup"; }
cj=$(k -n demo get cronjob web-backup -o json)
[ "$(jq -r '.spec.schedule' <<<"$cj")" = "*/5 * * * *" ] || fail "CronJob schedule: $(jq -r .spec.schedule <<<"$cj")"
[ "$(jq -r '.spec.concurrencyPolicy' <<<"$cj")" = Forbid ] || fail "concurrencyPolicy"
[ "$(jq -r '.metadata.ownerReferences[0].kind + "/" + .metadata.ownerReferences[0].name' <<<"$cj")" = \
  "BackupConfiguration/web-backup" ] || fail "CronJob owner: $(jq -c .metadata.ownerReferences <<<"$cj")"
pod=$(jq -c '.spec.jobTemplate.spec.template.spec' <<<"$cj")
[ "$(jq -r '.serviceAccountName + " " + .restartPolicy + " " + (.containers|length|tostring) + " " + .containers[0].name + " " + .containers[0].image' <<<"$pod")" = \
  "stash-v1beta1 Never 1 stash stash:test" ] || fail "CronJob pod: $pod"
[ "$(jq -c '.containers[0].args' <<<"$pod")" = \
  '["create-backupsession","--backupsession.name=web-backup","--backupsession.namespace=demo"]' ] || fail "args: $pod"
[ "$(jq -r '.spec.jobTemplate.metadata.labels["stash.appscode.com/delete-job-on-completion"]' <<<"$cj")" = true ] ||
  fail "job template label"
[ "$(jp backupconfiguration/web-backup '{.metadata.finalizers[0]}')" = stash.appscode.com ] || fail "no finalizer"
[ "$(jp rolebinding/stash-v1beta1-agent '{.roleRef.name} {.subjects[0].name}')" = "stash-v1beta1-agent stash-v1beta1" ] ||
  fail "RoleBinding stash-v1beta1-agent"
k -n demo get serviceaccount stash-v1beta1 -o name >/dev/null || fail "no ServiceAccount stash-v1beta1"
wait_event BackupConfiguration web-backup "^Normal CronJobCreated"
pass "BackupConfiguration web-backup: finalizer, CronJob web-backup (@every 5m -> */5 * * * *, Forbid, create-backupsession as stash-v1beta1)"

containers() { jp "$1" '{range .spec.template.spec.containers[*]}{.name} {end}'; }
has_sidecar() { [ "$(containers "$1")" = "app stash " ]; }
wait_until 30 has_sidecar deployment/web || { tail -20 "$WORK/operator.log"; fail "no sidecar in deployment/web: $(containers deployment/web)"; }
dep=$(k -n demo get deployment web -o json)
side=$(jq -c '.spec.template.spec.containers[] | select(.name=="stash")' <<<"$dep")
[ "$(jq -c .args <<<"$side")" = '["run-backup","--backupconfiguration=web-backup","--target-kind=Deployment","--target-name=web"]' ] ||
  fail "sidecar args: $(jq -c .args <<<"$side")"
[ "$(jq -r '[.env[].name]|join(",")' <<<"$side")" = NODE_NAME,POD_NAME,NAMESPACE ] || fail "sidecar env"
[ "$(jq -r '[.volumeMounts[] | .name + ":" + .mountPath + ":" + ((.readOnly // false)|tostring)]|join(",")' <<<"$side")" = \
  "data:/data:true,tmp-dir:/tmp:false,stash-podinfo:/etc/stash:false,stash-local:/safe:false" ] ||
  fail "sidecar mounts: $(jq -c .volumeMounts <<<"$side")"
[ "$(jq -r '.metadata.annotations["stash.appscode.com/last-applied-backupconfiguration"] | fromjson | .metadata.name' <<<"$dep")" = web-backup ] ||
  fail "annotation last-applied-backupconfiguration"
[ -n "$(jq -r '.metadata.annotations["stash.appscode.com/last-applied-backupconfiguration-hash"] // ""' <<<"$dep")" ] || fail "no hash annotation"
[ "$(jp rolebinding/stash-v1beta1-deployment-web '{.roleRef.name} {.subjects[0].name}')" = "stash-v1beta1-agent default" ] ||
  fail "RoleBinding stash-v1beta1-deployment-web"
pass "deployment/web got the sidecar (run-backup, env, mounts, annotations) and its account the binding"

# --- sessions by hand ---
session manual-1 web-backup | k apply -f - >/dev/null
wait_phase backupsession/manual-1 Running
[ "$(jp backupsession/manual-1 '{.status.totalHosts}')" = 1 ] || fail "totalHosts of a Deployment"
wait_event BackupSession manual-1 "^Normal BackupSessionRunning"
stats backupsession/manual-1 '[{"hostname":"host-0","phase":"Succeeded","duration":"2.5s"}]'
wait_phase backupsession/manual-1 Succeeded
[ "$(jp backupsession/manual-1 '{.status.sessionDuration}')" = 2.5s ] || fail "sessionDuration: $(jp backupsession/manual-1 '{.status}')"
wait_event BackupSession manual-1 "^Normal BackupSessionSucceeded"
# Never touched again: a later change to the stats leaves the phase.
stats backupsession/manual-1 '[{"hostname":"host-0","phase":"Failed","error":"late"}]'
sleep 2
phase_is backupsession/manual-1 Succeeded || fail "a Succeeded session changed: $(phase backupsession/manual-1)"
pass "BackupSession manual-1: Running (totalHosts 1), Succeeded from host-0's stats (sessionDuration 2.5s), then left alone"

bc db-backup StatefulSet db | k apply -f - >/dev/null
session db-1 db-backup | k apply -f - >/dev/null
wait_phase backupsession/db-1 Running
[ "$(jp backupsession/db-1 '{.status.totalHosts}')" = 2 ] || fail "totalHosts of a 2-replica StatefulSet: $(jp backupsession/db-1 '{.status}')"
stats backupsession/db-1 '[{"hostname":"host-0","phase":"Succeeded","duration":"1s"}]'
sleep 2
phase_is backupsession/db-1 Running || fail "one of two hosts ended the session: $(phase backupsession/db-1)"
stats backupsession/db-1 '[{"hostname":"host-0","phase":"Succeeded","duration":"1s"},{"hostname":"host-1","phase":"Failed","duration":"1s","error":"disk on fire"}]'
wait_phase backupsession/db-1 Failed
wait_event BackupSession db-1 "^Warning BackupSessionFailed host-1: disk on fire"
pass "BackupSession db-1 of StatefulSet db: totalHosts 2, Running after one host, Failed when host-1 failed (Event names it)"

# --- the CronJob's Job runs create-backupsession ---
k -n demo create job manual-cron --from=cronjob/web-backup >/dev/null
from_cron() { k -n demo get backupsessions -l stash.appscode.com/backup-configuration=web-backup -o name | grep -q "web-backup-"; }
wait_until 90 from_cron || { cat "$STATE"/demo_manual-cron-*/stash.log 2>/dev/null; k -n demo get pods -o wide; fail "the CronJob's Job made no BackupSession"; }
made=$(k -n demo get backupsessions -l stash.appscode.com/backup-configuration=web-backup -o name | grep web-backup- | head -1)
wait_phase "$made" Running
pass "a Job from CronJob web-backup ran stash create-backupsession: $made went Running"

# --- paused ---
k -n demo patch backupconfiguration web-backup --type=merge -p '{"spec":{"paused":true}}' >/dev/null
session paused-1 web-backup | k apply -f - >/dev/null
wait_phase backupsession/paused-1 Skipped
wait_event BackupSession paused-1 "BackupSkipped BackupConfiguration demo/web-backup is paused"
k -n demo patch backupconfiguration web-backup --type=merge -p '{"spec":{"paused":false}}' >/dev/null
pass "a session of a paused BackupConfiguration is Skipped"

# --- the webhook: a Deployment created after its BackupConfiguration ---
bc late-backup Deployment late | k apply -f - >/dev/null
created=$(workload Deployment late 1 | k create -f - -o json)
[ "$(jq -r '[.spec.template.spec.containers[].name]|join(",")' <<<"$created")" = app,stash ] ||
  fail "deployment/late was admitted without the sidecar: $(jq -c '[.spec.template.spec.containers[].name]' <<<"$created")"
pass "deployment/late was created with the sidecar (webhook)"

# --- RestoreSession on a workload ---
k apply -f - >/dev/null <<EOR
apiVersion: stash.appscode.com/v1beta1
kind: RestoreSession
metadata: {name: web-restore, namespace: demo}
spec:
  repository: {name: repo}
  target:
    ref: {apiVersion: apps/v1, kind: Deployment, name: web}
    volumeMounts: [{name: data, mountPath: /data}]
  rules: [{paths: [/data]}]
EOR
inits() { jp "$1" '{range .spec.template.spec.initContainers[*]}{.name} {end}'; }
has_init() { [ "$(inits deployment/web)" = "stash-init " ]; }
wait_until 30 has_init || fail "no stash-init in deployment/web: $(inits deployment/web)"
init=$(k -n demo get deployment web -o json | jq -c '.spec.template.spec.initContainers[0]')
[ "$(jq -c .args <<<"$init")" = '["restore-session","--restoresession=web-restore","--target-kind=Deployment","--target-name=web"]' ] ||
  fail "stash-init args: $(jq -c .args <<<"$init")"
[ "$(jq -r '.volumeMounts[0].readOnly // false' <<<"$init")" = false ] || fail "the restore's target mount is read-only"
has_sidecar deployment/web || fail "the sidecar left when the init container came"
wait_phase restoresession/web-restore Running
stats restoresession/web-restore '[{"hostname":"host-0","phase":"Succeeded","duration":"3s"}]'
wait_phase restoresession/web-restore Succeeded
k -n demo delete restoresession web-restore >/dev/null
no_init() { [ -z "$(inits deployment/web)" ]; }
wait_until 30 no_init || fail "stash-init stayed after the RestoreSession went: $(inits deployment/web)"
has_sidecar deployment/web || fail "the sidecar left with the init container"
pass "RestoreSession web-restore: stash-init (restore-session, writable mount) beside the sidecar, Running, Succeeded, removed with it"

# --- the job model: a Task on an AppBinding ---
k apply -f - >/dev/null <<'EOR'
apiVersion: stash.appscode.com/v1beta1
kind: Function
metadata: {name: step-one}
spec:
  image: busybox
  command: [/bin/echo]
  args: [version, "--repo=${REPOSITORY_NAME}", "--provider=${REPOSITORY_PROVIDER}", "--host=${HOSTNAME}",
         "--session=${BACKUP_SESSION}", "--app=${TARGET_APP_TYPE}", "--keep=${RETENTION_KEEP_LAST:=0}",
         "--mode=${mode:=fast}", "--out=${outputDir}"]
---
apiVersion: stash.appscode.com/v1beta1
kind: Function
metadata: {name: step-two}
spec:
  image: stash:test
  args: [no-such-command, "--ns=${NAMESPACE}"]
---
apiVersion: stash.appscode.com/v1beta1
kind: Function
metadata: {name: needs-var}
spec:
  image: stash:test
  args: ["--x=${UNSET_VARIABLE}"]
---
apiVersion: stash.appscode.com/v1beta1
kind: Task
metadata: {name: two-steps}
spec:
  steps:
  - {name: step-one, params: [{name: mode, value: slow}]}
  - {name: step-two}
---
apiVersion: stash.appscode.com/v1beta1
kind: Task
metadata: {name: missing-function}
spec:
  steps: [{name: step-one}, {name: no-such-function}]
---
apiVersion: stash.appscode.com/v1beta1
kind: Task
metadata: {name: missing-variable}
spec:
  steps: [{name: needs-var}]
---
apiVersion: appcatalog.appscode.com/v1alpha1
kind: AppBinding
metadata: {name: pg, namespace: demo}
spec:
  type: kubedb.com/postgres
  version: "15"
  clientConfig: {url: "postgresql://127.0.0.1:5432"}
EOR
task_bc() {  # NAME TASK
  cat <<EOB
apiVersion: stash.appscode.com/v1beta1
kind: BackupConfiguration
metadata: {name: $1, namespace: demo}
spec:
  schedule: "@daily"
  repository: {name: repo}
  task: {name: $2}
  target: {ref: {apiVersion: appcatalog.appscode.com/v1alpha1, kind: AppBinding, name: pg}}
  retentionPolicy: {name: keep, keepLast: 4}
EOB
}
task_bc pg-backup two-steps | k apply -f - >/dev/null
session pg-1 pg-backup | k apply -f - >/dev/null
has_job() { k -n demo get job stash-backup-pg-1 -o name >/dev/null 2>&1; }
wait_until 30 has_job || { tail -20 "$WORK/operator.log"; fail "no Job stash-backup-pg-1 ($(jp backupsession/pg-1 '{.status}'))"; }
job=$(k -n demo get job stash-backup-pg-1 -o json)
jpod=$(jq -c .spec.template.spec <<<"$job")
[ "$(jq -r '([.initContainers[].name]|join(",")) + " " + ([.containers[].name]|join(",")) + " " + .serviceAccountName + " " + .restartPolicy' <<<"$jpod")" = \
  "step-one-0 step-two-1 stash-v1beta1 Never" ] || fail "Job pod: $jpod"
[ "$(jq -c '.initContainers[0].args' <<<"$jpod")" = \
  '["version","--repo=repo","--provider=local","--host=host-0","--session=pg-1","--app=kubedb.com/postgres","--keep=4","--mode=slow","--out=/tmp/output"]' ] ||
  fail "step-one args: $(jq -c '.initContainers[0].args' <<<"$jpod")"
[ "$(jq -c '.containers[0].args' <<<"$jpod")" = '["no-such-command","--ns=demo"]' ] || fail "step-two args"
[ "$(jq -r '[.volumes[].name]|join(",")' <<<"$jpod")" = tmp-dir,stash-local ] || fail "Job volumes: $(jq -c .volumes <<<"$jpod")"
[ "$(jq -r '.initContainers[0].env[] | select(.name=="NAMESPACE") | .valueFrom.fieldRef.fieldPath' <<<"$jpod")" = metadata.namespace ] ||
  fail "no NAMESPACE env"
[ "$(jq -r '.metadata.ownerReferences[0].kind + " " + .metadata.labels["stash.appscode.com/delete-job-on-completion"]' <<<"$job")" = \
  "BackupSession false" ] || fail "Job owner/labels: $(jq -c .metadata <<<"$job")"
[ "$(jp backupsession/pg-1 '{.status.totalHosts}')" = 1 ] || fail "totalHosts of the job model"
pass "BackupSession pg-1 -> Job stash-backup-pg-1: init step-one-0 (inputs resolved, step param mode=slow, outputDir), step-two-1, stash-v1beta1, tmp-dir and stash-local"
# step-two runs `stash no-such-command`: the Job fails, host-0 Failed with its message.
wait_until 120 phase_is backupsession/pg-1 Failed ||
  { cat "$STATE"/demo_stash-backup-pg-1-*/*.log 2>/dev/null | tail; fail "pg-1: $(jp backupsession/pg-1 '{.status}')"; }
err=$(jp backupsession/pg-1 '{.status.stats[0].hostname} {.status.stats[0].phase} {.status.stats[0].error}')
grep -q "^host-0 Failed .*no-such-command" <<<"$err" || fail "host-0's error: $err"
wait_event BackupSession pg-1 "^Warning JobFailed Job stash-backup-pg-1 failed"
pass "the failing step failed the session: $err"

# --- bad input ---
task_bc nofn-backup missing-function | k apply -f - >/dev/null
session nofn-1 nofn-backup | k apply -f - >/dev/null
wait_phase backupsession/nofn-1 Failed
[ "$(jp backupsession/nofn-1 '{.status.conditions[0].reason}')" = InvalidTask ] || fail "nofn-1 reason"
wait_event BackupSession nofn-1 "^Warning InvalidTask Task missing-function: Function no-such-function not found"
task_bc novar-backup missing-variable | k apply -f - >/dev/null
session novar-1 novar-backup | k apply -f - >/dev/null
wait_phase backupsession/novar-1 Failed
wait_event BackupSession novar-1 "can't resolve Function needs-var for Task missing-variable: variable UNSET_VARIABLE has no value and no default"
! k -n demo get job stash-backup-nofn-1 stash-backup-novar-1 -o name 2>/dev/null | grep -q . || fail "a Job was made for bad input"
pass "a missing Function and a variable without a value: Failed, InvalidTask Events naming them, no Job"

bc bad-schedule Deployment web "@every 7m" | k apply -f - >/dev/null
wait_event BackupConfiguration bad-schedule '^Warning InvalidSchedule schedule "@every 7m"'
! k -n demo get cronjob bad-schedule -o name 2>/dev/null | grep -q . || fail "a CronJob for a bad schedule"
k -n demo delete backupconfiguration bad-schedule --wait=false >/dev/null
bc norepo-backup StatefulSet db "@hourly" missing-repo | k apply -f - >/dev/null
wait_event BackupConfiguration norepo-backup "^Warning RepositoryNotFound Repository demo/missing-repo not found"
session norepo-1 norepo-backup | k apply -f - >/dev/null
wait_phase backupsession/norepo-1 Failed
[ "$(jp backupsession/norepo-1 '{.status.conditions[0].reason}')" = RepositoryNotFound ] || fail "norepo-1 reason"
wait_event BackupSession norepo-1 "^Warning RepositoryNotFound Repository demo/missing-repo not found"
session orphan-1 no-such-bc | k apply -f - >/dev/null
wait_phase backupsession/orphan-1 Failed
wait_event BackupSession orphan-1 "^Warning BackupConfigurationNotFound BackupConfiguration demo/no-such-bc not found"
pass "a schedule a CronJob cannot take, a missing Repository, a missing BackupConfiguration: Events naming them, sessions Failed"

# --- auto-backup from a BackupConfigurationTemplate ---
k apply -f - >/dev/null <<EOR
apiVersion: stash.appscode.com/v1beta1
kind: BackupConfigurationTemplate
metadata: {name: daily}
spec:
  backend:
    storageSecretName: repo-secret
    local: {mountPath: /safe, subPath: 'auto/\${TARGET_NAMESPACE}/\${TARGET_KIND}/\${TARGET_NAME}', hostPath: {path: $WORK/backups}}
  schedule: "@daily"
  retentionPolicy: {name: keep, keepLast: 7, prune: true}
EOR
workload Deployment auto 1 | k apply -f - >/dev/null
k -n demo annotate deployment auto stash.appscode.com/backup-blueprint=daily \
  stash.appscode.com/target-paths=/data stash.appscode.com/volume-mounts=data:/data >/dev/null
has_auto() { k -n demo get backupconfiguration deployment-auto -o name >/dev/null 2>&1; }
wait_until 30 has_auto || { tail -20 "$WORK/operator.log"; fail "no BackupConfiguration deployment-auto ($(events Deployment auto))"; }
[ "$(jp repository/deployment-auto '{.spec.backend.local.subPath}')" = auto/demo/deployment/auto ] ||
  fail "Repository deployment-auto: $(jp repository/deployment-auto '{.spec}')"
[ "$(jp backupconfiguration/deployment-auto '{.spec.schedule} {.spec.repository.name} {.spec.target.ref.kind}/{.spec.target.ref.name} {.spec.target.paths[0]} {.spec.retentionPolicy.keepLast} {.metadata.ownerReferences[0].name}')" = \
  "@daily deployment-auto Deployment/auto /data 7 auto" ] || fail "BackupConfiguration deployment-auto: $(jp backupconfiguration/deployment-auto '{.spec}')"
wait_until 30 has_sidecar deployment/auto || fail "deployment/auto got no sidecar: $(containers deployment/auto)"
k -n demo annotate deployment auto stash.appscode.com/backup-blueprint- >/dev/null
auto_gone() { ! has_auto; }
wait_until 60 auto_gone || fail "BackupConfiguration deployment-auto stayed after the annotation went"
k -n demo get repository deployment-auto -o name >/dev/null || fail "Repository deployment-auto went too"
wait_until 30 bash -c "[ \"\$('$KUBECTL' -n demo get deployment auto -o jsonpath='{.spec.template.spec.containers[*].name}')\" = app ]" ||
  fail "the sidecar of deployment-auto stayed"
workload Deployment old 1 | k apply -f - >/dev/null
k -n demo annotate deployment old stash.appscode.com/backup-template=daily stash.appscode.com/volume-mounts=data >/dev/null
wait_event Deployment old "^Warning InvalidAutoBackup .*use 'vol1Name:mountPath,vol2Name:mountPath' format"
k -n demo annotate deployment old --overwrite stash.appscode.com/volume-mounts=data:/data >/dev/null
has_old() { k -n demo get backupconfiguration deployment-old -o name >/dev/null 2>&1; }
wait_until 30 has_old || fail "the backup-template annotation made no BackupConfiguration"
pass "BackupConfigurationTemplate daily: Repository and BackupConfiguration deployment-auto (variables filled in, sidecar), deleted without the annotation (Repository kept); backup-template too; a malformed volume-mounts annotation named"

# --- deleting a BackupConfiguration ---
k -n demo delete backupconfiguration web-backup --wait=false >/dev/null
gone() { ! k -n demo get backupconfiguration web-backup -o name >/dev/null 2>&1; }
wait_until 60 gone || { tail -20 "$WORK/operator.log"; fail "BackupConfiguration web-backup stayed: $(jp backupconfiguration/web-backup '{.metadata}')"; }
[ "$(containers deployment/web)" = "app " ] || fail "the sidecar stayed: $(containers deployment/web)"
[ -z "$(jp deployment/web '{.metadata.annotations.stash\.appscode\.com/last-applied-backupconfiguration}')" ] ||
  fail "the annotation stayed"
cron_gone() { ! k -n demo get cronjob web-backup -o name >/dev/null 2>&1; }
wait_until 60 cron_gone || fail "CronJob web-backup stayed after its BackupConfiguration"
pass "deleting BackupConfiguration web-backup took the sidecar and annotations out, then the finalizer; the CronJob went too"

# --- the operator's own metrics ---
scraped=$(curl -sk "https://127.0.0.1:$port/metrics") || fail "cannot scrape https://127.0.0.1:$port/metrics"
for want in 'kind="BackupSession",phase="Succeeded"' 'kind="BackupSession",phase="Failed"' \
            'kind="BackupSession",phase="Skipped"' 'kind="RestoreSession",phase="Succeeded"'; do
  grep -q "^stash_operator_session_phases_total{$want} [1-9]" <<<"$scraped" ||
    fail "no stash_operator_session_phases_total{$want}: $(grep session_phases <<<"$scraped")"
done
pass "/metrics counts the phases given: $(grep -c '^stash_operator_session_phases_total{' <<<"$scraped") series"
