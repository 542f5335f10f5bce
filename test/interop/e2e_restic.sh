#!/usr/bin/env bash
# Stash 0.8.3's Restic flow end to end, all through the real kube-apiserver
# and kubectl (test/controlplane with controllers), with test/tools/test_node.py
# running the pods as local processes (the one stand-in: no kubelet here):
#   - a 2-replica Deployment writing to a hostPath volume and a Restic
#     (keepLast 3, prune; a 15 s schedule instead of 1m, to keep the test short)
#     -> the operator's webhook injects the sidecar, exactly one replica
#     backs up (the Lease holder), snapshots appear in
#     `kubectl get snapshots -l workload-kind=Deployment` through the
#     aggregator, 4 sessions leave 3 snapshots, the Repository counts them;
#   - a StatefulSet with 2 pods gives 2 Repositories, a DaemonSet one per node;
#   - `kubectl delete snapshot` removes one; a Recovery restores the files
#     into a fresh folder, identical to the source;
#   - deleting the Restic removes the sidecar; restic 0.14 checks every
#     repository the sidecars wrote with --read-data.
source "$(dirname "$0")/lib.sh"
source "$HERE/../controlplane/lib.sh"
command -v "$RESTIC" >/dev/null || { echo "SKIP: restic is not installed"; exit 77; }
cp_require_node

STATE=$WORK/node
cp_start_for_test "$WORK/cp" --controllers
k() { "$KUBECTL" --request-timeout=60s "$@"; }
jp() { k get "$@" 2>/dev/null || true; }
logs() { tail -30 "$WORK/operator.log" "$WORK/apiserver.log" "$WORK/test-node.log" "$STATE"/demo_*/stash.log 2>/dev/null || true; }

cp_start_node e2e-node "$STATE" "$WORK/test-node.log" || fail "the test node never became Ready"

# --- Stash as the manifests install it, the servers run outside pods as their service accounts ---
start_stash_servers stash:e2e || { logs; fail "the Stash servers did not start"; }
pass "apiserver (APIService Available), operator (webhook registered) and test node running"

# --- The workloads and their Restic ---
k create namespace demo >/dev/null
wait_until 60 k -n demo get serviceaccount default -o name >/dev/null 2>&1 || fail "no default service account in demo"
k -n demo create secret generic repo-secret --from-literal=RESTIC_PASSWORD="$RESTIC_PASSWORD" >/dev/null
mkdir -p "$WORK/backups" "$WORK/web-data/sub"
for i in 1 2 3; do head -c $((i * 70000)) /dev/urandom > "$WORK/web-data/file-$i"; done
echo "nested" > "$WORK/web-data/sub/note.txt"
k apply -f - >/dev/null <<EOR
apiVersion: stash.appscode.com/v1alpha1
kind: Restic
metadata: {name: web-backup, namespace: demo}
spec:
  selector: {matchLabels: {backup: web}}
  schedule: "@every 15s"
  fileGroups: [{path: /source/data, retentionPolicyName: keep-last-3, tags: [e2e]}]
  backend:
    storageSecretName: repo-secret
    local: {mountPath: /safe/data, hostPath: {path: $WORK/backups}}
  volumeMounts: [{name: source-data, mountPath: /source/data}]
  retentionPolicies: [{name: keep-last-3, keepLast: 3, prune: true}]
EOR
# The webhook reads Restics from an informer: a server dry run shows when it has this one.
workload() {  # KIND NAME REPLICAS
  local replicas="replicas: $3" extra=""
  [ "$1" = DaemonSet ] && replicas=""
  [ "$1" = StatefulSet ] && extra="serviceName: $2"
  cat <<EOD
apiVersion: apps/v1
kind: $1
metadata: {name: $2, namespace: demo, labels: {backup: web}}
spec:
  $replicas
  $extra
  selector: {matchLabels: {app: $2}}
  template:
    metadata: {labels: {app: $2}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - {name: app, image: busybox, command: [sh, -c, "echo \$HOSTNAME >> /source/data/writers.log; exec sleep 3600"],
         volumeMounts: [{name: source-data, mountPath: /source/data}]}
      volumes: [{name: source-data, hostPath: {path: $WORK/$2-data}}]
EOD
}
injects() { workload Deployment probe 1 | k create --dry-run=server -o jsonpath='{.spec.template.spec.containers[*].name}' -f - > "$WORK/probe" 2>&1 && grep -qw stash "$WORK/probe"; }
wait_until 30 injects || { cat "$WORK/operator.log" "$WORK/probe"; k get mutatingwebhookconfigurations -o jsonpath='{.items[0].metadata.managedFields}'; echo; fail "the webhook does not inject"; }
workload Deployment web 2 | k apply -f - >/dev/null
[[ " $(jp deployment/web -n demo -o 'jsonpath={.spec.template.spec.containers[*].name}') " == *" stash "* ]] ||
  fail "deployment/web stored without the sidecar"
running() {  # SELECTOR COUNT
  [ "$(jp pods -n demo -l "$1" -o 'jsonpath={range .items[*]}{.status.phase}{"\n"}{end}' | grep -c '^Running$')" -ge "$2" ]; }
wait_until 120 running app=web 2 || { logs; k -n demo get pods -o wide; fail "deployment/web pods not Running"; }
pass "deployment/web: the webhook injected the sidecar, both pods run it"

repo_count() { jp repository/"$1" -n demo -o 'jsonpath={.status.backupCount}'; }
counted() { local c; c=$(repo_count "$1"); [ -n "$c" ] && [ "$c" -ge "$2" ]; }
wait_until 180 counted deployment.web 4 || { logs; fail "Repository deployment.web counted $(repo_count deployment.web) sessions, want 4"; }
snaps() { k get snapshots -n demo -l "$1" -o name; }
# A session's new snapshot is listed a moment before its retention runs, so
# a list may catch 4: wait (bounded) for a list between sessions.
three() { snaps workload-kind=Deployment > "$WORK/snaps" && [ "$(wc -l < "$WORK/snaps")" = 3 ]; }
wait_until 30 three || { cat "$WORK/snaps"; fail "keepLast 3 left $(wc -l < "$WORK/snaps") snapshots"; }
grep -q "snapshot.repositories.stash.appscode.com/deployment.web-" "$WORK/snaps" || fail "snapshot names: $(cat "$WORK/snaps")"
pass "4 sessions: kubectl lists 3 snapshots of deployment.web through the aggregator; the Repository counts $(repo_count deployment.web)"

holder=$(jp lease/lock-deployment-web -n demo -o 'jsonpath={.spec.holderIdentity}')
backed=() pods=$(jp pods -n demo -l app=web -o 'jsonpath={.items[*].metadata.name}')
for p in $pods; do grep -q "Backed up\|session" "$STATE/demo_$p/stash.log" 2>/dev/null && backed+=("$p"); done
hosts=$("$RESTIC" -r "$WORK/backups/deployment/web" snapshots --json --no-lock 2>/dev/null | python3 -c \
  'import json,sys; print(" ".join(sorted({s["hostname"] for s in json.load(sys.stdin)})))')
[ "$hosts" = web ] || fail "snapshot hosts '$hosts', want web"
[[ " $pods " == *" $holder "* ]] || fail "lease holder '$holder' is not a web pod ($pods)"
pass "one leader among the replicas ($holder holds lock-deployment-web); the snapshots' host is the workload"

# --- StatefulSet: a Repository per pod; DaemonSet: one per node ---
mkdir -p "$WORK/db-data" "$WORK/agent-data"; echo db > "$WORK/db-data/x"; echo agent > "$WORK/agent-data/y"
workload StatefulSet db 2 | k apply -f - >/dev/null
workload DaemonSet agent 0 | k apply -f - >/dev/null
wait_until 180 counted statefulset.db-0 1 && wait_until 120 counted statefulset.db-1 1 ||
  { logs; k -n demo get pods,repositories; fail "no Repository per StatefulSet pod"; }
wait_until 120 counted daemonset.agent.e2e-node 1 || { logs; k -n demo get repositories; fail "no Repository for the DaemonSet's node"; }
pass "StatefulSet db: repositories statefulset.db-0 and statefulset.db-1; DaemonSet agent: daemonset.agent.e2e-node"

# --- Delete one snapshot; recover the newest into a fresh folder ---
# The newest from a fresh list: retention (every 15 s) forgets the oldest,
# and the list taken above may be minutes old on a busy machine.
victim=$(k get snapshots -n demo -l workload-kind=Deployment --sort-by=.metadata.creationTimestamp -o name | tail -1 | sed 's|.*/||')
k delete snapshot -n demo "$victim" >/dev/null || fail "kubectl delete snapshot $victim"
gone() { ! k get snapshot -n demo "$victim" >/dev/null 2>&1; }
wait_until 30 gone || fail "snapshot $victim still listed"
pass "kubectl delete snapshot $victim"
k -n demo patch restic web-backup --type merge -p '{"spec":{"paused":true}}' >/dev/null
latest=$(k get snapshots -n demo -l workload-kind=Deployment --sort-by=.metadata.creationTimestamp -o name | tail -1 | sed 's|.*/||')
mkdir -p "$WORK/recovered"
k apply -f - >/dev/null <<EOR
apiVersion: stash.appscode.com/v1alpha1
kind: Recovery
metadata: {name: web-recovery, namespace: demo}
spec:
  repository: {name: deployment.web, namespace: demo}
  snapshot: $latest
  paths: [/source/data]
  recoveredVolumes: [{mountPath: /source/data, hostPath: {path: $WORK/recovered}}]
EOR
phase() { jp recovery/web-recovery -n demo -o 'jsonpath={.status.phase}'; }
wait_until 180 bash -c "[[ \"\$('$KUBECTL' get recovery web-recovery -n demo -o jsonpath='{.status.phase}')\" =~ ^(Succeeded|Failed)$ ]]" ||
  { logs; fail "Recovery still $(phase)"; }
[ "$(phase)" = Succeeded ] || { logs; k -n demo get recovery web-recovery -o yaml; fail "Recovery $(phase)"; }
# writers.log grows with every pod start; the snapshot holds it as it was then.
diff -r --exclude writers.log "$WORK/web-data" "$WORK/recovered" || fail "recovered files differ from the source"
pass "Recovery of $latest: Succeeded, files identical to the source"

# --- Deleting the Restic removes the sidecar; restic reads every repository ---
k -n demo delete restic web-backup >/dev/null
no_sidecar() { [[ " $(jp deployment/web -n demo -o 'jsonpath={.spec.template.spec.containers[*].name}') " != *" stash "* ]]; }
wait_until 60 no_sidecar || { logs; fail "the sidecar stayed after the Restic was deleted"; }
pass "deleting the Restic removed the sidecar"
for repo in deployment/web statefulset/db-0 statefulset/db-1 daemonset/agent/e2e-node; do
  "$RESTIC" -r "$WORK/backups/$repo" check --read-data > "$WORK/check.out" 2>&1 ||
    { cat "$WORK/check.out"; fail "restic check --read-data $repo"; }
done
pass "restic 0.14 check --read-data passes on all 4 repositories"
