#!/usr/bin/env bash
# test/tools/test_node.py, the stand-in for a kubelet and container runtime,
# on a real control plane (etcd, kube-apiserver, controllers, scheduler):
# the scheduler binds pods to its Node and it runs them as local processes.
# Checked: a Deployment's 2 pods Running, each writing its name and a Secret's
# value into a hostPath volume mounted elsewhere, plus the downward API's
# labels; Jobs that exit 0 (Complete) and 3 (exit code in the status); an
# init container handing a file to the main container through an emptyDir;
# two containers sharing an emptyDir; OnFailure restarting a failed
# container; a stash image running the stash binary; a container whose
# service account token, CA and KUBERNETES_SERVICE_* reach the apiserver;
# Secret items, envFrom, readOnly, a claim's subPath, workingDir, an emptyDir
# over /tmp; deleting the Deployment kills its processes and the pods
# vanish; deleting the namespace finishes; the Node stays Ready and its
# heartbeats are renewed throughout; the node stops cleanly.
source "$(dirname "$0")/lib.sh"
source "$HERE/../controlplane/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (mount namespaces for the pods' volumes)"; exit 77; }
command -v unshare >/dev/null || { echo "SKIP: unshare is not installed (util-linux)"; exit 77; }
bash "$HERE/../controlplane/build.sh" > "$WORK/build.out" 2> "$WORK/build.log" || {
  tail -5 "$WORK/build.log"; echo "SKIP: the control plane binaries could not be built"; exit 77; }

STATE=$WORK/node
NODE_PID=
stop_node() {
  [ -n "$NODE_PID" ] || return 0
  kill -TERM "$NODE_PID" 2>/dev/null || true
  local i
  for i in $(seq 1 40); do kill -0 "$NODE_PID" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$NODE_PID" 2>/dev/null || true
  wait "$NODE_PID" 2>/dev/null || true
  NODE_PID=
}
cleanup() {
  stop_node
  local f
  for f in "$STATE"/*_*/*.pid; do  # containers a killed node could not stop
    [ -f "$f" ] && kill -KILL -- "-$(cat "$f")" 2>/dev/null || true
  done
  cp_stop || true
  rm -rf "$WORK" || true
}
cp_start "$WORK/cp" --controllers || fail "the control plane did not start"
trap cleanup EXIT
k() { "$KUBECTL" --request-timeout=60s "$@"; }
jp() { k get "$@" 2>/dev/null || true; }  # jp KIND/NAME -n NS -o jsonpath=...

python3 "$HERE/../tools/test_node.py" --kubeconfig "$KUBECONFIG" --node-name test-node-1 \
  --state-dir "$STATE" --stash-binary "$STASH" > "$WORK/test-node.log" 2>&1 &
NODE_PID=$!
node_ready() { [ "$(jp node/test-node-1 -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
check_node() {
  node_ready || fail "node test-node-1 is not Ready ($1)"
  local taints
  taints=$(jp node/test-node-1 -o 'jsonpath={.spec.taints}')
  case "$taints" in *unreachable*|*not-ready*) fail "node test-node-1 tainted ($1): $taints";; esac
  kill -0 "$NODE_PID" 2>/dev/null || { cat "$WORK/test-node.log"; fail "test_node.py died ($1)"; }
}
wait_until 60 node_ready || { cat "$WORK/test-node.log"; fail "node test-node-1 never became Ready"; }
[ -f "$STATE/test-node.pid" ] && [ "$(cat "$STATE/test-node.pid")" = "$NODE_PID" ] || fail "no pid file"
renewed_at() { jp lease/test-node-1 -n kube-node-lease -o 'jsonpath={.spec.renewTime}'; }
beat_at() { jp node/test-node-1 -o 'jsonpath={.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}'; }
first_renewal=$(renewed_at) first_beat=$(beat_at)
[ -n "$first_renewal" ] || fail "no Lease for the node in kube-node-lease"
pass "node registered and Ready"

k create namespace tn >/dev/null
wait_until 60 k -n tn get serviceaccount default -o name >/dev/null 2>&1 || fail "no default service account"
k -n tn create secret generic app-secret --from-literal=GREETING=hello-from-secret >/dev/null
HOST=$WORK/host MNT=$WORK/mnt
mkdir -p "$HOST"

# --- a Deployment of 2 replicas ---
k apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: tn}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: front}}
    spec:
      containers:
      - name: app
        image: busybox
        command: [sh, -c]
        args: ['echo "\$POD_NAME \$GREETING" > $MNT/out/\$POD_NAME && cp $MNT/info/labels $MNT/out/\$POD_NAME.labels && exec sleep 3600']
        env:
        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: GREETING, valueFrom: {secretKeyRef: {name: app-secret, key: GREETING}}}
        volumeMounts:
        - {name: out, mountPath: $MNT/out}
        - {name: info, mountPath: $MNT/info, readOnly: true}
      volumes:
      - {name: out, hostPath: {path: $HOST, type: DirectoryOrCreate}}
      - name: info
        downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}
EOF
k -n tn rollout status deployment/web --timeout=120s >/dev/null || {
  k -n tn get pods -o wide; tail -20 "$WORK/test-node.log"; fail "deployment web never became available"; }
pods=$(jp pods -n tn -l app=web -o 'jsonpath={.items[*].metadata.name}')
read -r -a web_pods <<< "$pods"
[ "${#web_pods[@]}" = 2 ] || fail "expected 2 web pods, got: $pods"
for p in "${web_pods[@]}"; do
  phase=$(jp pod/"$p" -n tn -o 'jsonpath={.status.phase}')
  [ "$phase" = Running ] || fail "pod $p is $phase, not Running"
  wait_until 30 test -s "$HOST/$p.labels" || fail "pod $p wrote no files into the hostPath volume"
  [ "$(cat "$HOST/$p")" = "$p hello-from-secret" ] || fail "pod $p wrote '$(cat "$HOST/$p")'"
  labels=$(cat "$HOST/$p.labels")
  [[ "$labels" == *'app="web"'* && "$labels" == *'tier="front"'* ]] || fail "labels file of $p: $labels"
done
[ -z "$(ls -A "$MNT/out")" ] || fail "the bind mount leaked out of the pod's mount namespace"
pass "deployment: 2 pods Running, hostPath files with the Secret's value, downward API labels"
check_node "after the deployment"

# --- Jobs ---
job() {  # NAME EXIT-CODE
  k apply -f - >/dev/null <<EOF
apiVersion: batch/v1
kind: Job
metadata: {name: $1, namespace: tn}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox, command: [sh, -c, 'echo job $1; exit $2']}]
EOF
}
job ok 0
job bad 3
k -n tn wait --for=condition=Complete job/ok --timeout=120s >/dev/null || fail "job ok did not complete"
k -n tn wait --for=condition=Failed job/bad --timeout=120s >/dev/null || fail "job bad did not fail"
code=$(jp pods -n tn -l job-name=bad -o 'jsonpath={.items[0].status.containerStatuses[0].state.terminated.exitCode}')
[ "$code" = 3 ] || fail "job bad's pod shows exit code '$code', not 3"
okpod=$(jp pods -n tn -l job-name=ok -o 'jsonpath={.items[0].metadata.name}')
grep -q "job ok" "$STATE/tn_$okpod/main.log" || fail "no log of job ok's container"
pass "jobs: exit 0 Complete, exit 3 shown in the container status, logs written"

# --- init container, shared emptyDir, OnFailure restart, stash image ---
k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: init, namespace: tn}
spec:
  restartPolicy: Never
  initContainers:
  - {name: prepare, image: busybox, command: [sh, -c, 'echo prepared-by-init > /scratch/f'],
     volumeMounts: [{name: s, mountPath: /scratch}]}
  containers:
  - {name: main, image: busybox, command: [sh, -c, 'cat /scratch/f'], volumeMounts: [{name: s, mountPath: /scratch}]}
  volumes: [{name: s, emptyDir: {}}]
---
apiVersion: v1
kind: Pod
metadata: {name: shared, namespace: tn}
spec:
  restartPolicy: Never
  containers:
  - {name: writer, image: busybox, command: [sh, -c, 'echo from-writer > /a/f; exec sleep 3600'],
     volumeMounts: [{name: s, mountPath: /a}]}
  - {name: reader, image: busybox, command: [sh, -c, 'while [ ! -f /b/f ]; do sleep 0.1; done; cat /b/f'],
     volumeMounts: [{name: s, mountPath: /b}]}
  volumes: [{name: s, emptyDir: {}}]
---
apiVersion: v1
kind: Pod
metadata: {name: retry, namespace: tn}
spec:
  restartPolicy: OnFailure
  containers:
  - {name: main, image: busybox, command: [sh, -c, 'if [ -f /s/once ]; then echo second; exit 0; fi; touch /s/once; exit 1'],
     volumeMounts: [{name: s, mountPath: /s}]}
  volumes: [{name: s, emptyDir: {}}]
---
apiVersion: v1
kind: Pod
metadata: {name: stash, namespace: tn}
spec:
  restartPolicy: Never
  containers:
  - {name: stash, image: stash:0.1.0, args: [version]}
  - name: token
    image: busybox
    command: [sh, -c]
    args: ['cd /var/run/secrets/kubernetes.io/serviceaccount && curl -sS --cacert ca.crt -X POST
            -H "Authorization: Bearer \$(cat token)" -H "Content-Type: application/json"
            -d "{\\"apiVersion\\":\\"authentication.k8s.io/v1\\",\\"kind\\":\\"SelfSubjectReview\\"}"
            "https://\$KUBERNETES_SERVICE_HOST:\$KUBERNETES_SERVICE_PORT/apis/authentication.k8s.io/v1/selfsubjectreviews"']
EOF
phase_is() { [ "$(jp pod/"$1" -n tn -o 'jsonpath={.status.phase}')" = "$2" ]; }
wait_until 120 phase_is init Succeeded || fail "pod init did not succeed"
[ "$(cat "$STATE/tn_init/main.log")" = prepared-by-init ] || fail "main container read: $(cat "$STATE/tn_init/main.log")"
reader_exit() { [ "$(jp pod/shared -n tn -o 'jsonpath={.status.containerStatuses[?(@.name=="reader")].state.terminated.exitCode}')" = 0 ]; }
wait_until 120 reader_exit || fail "the reader of the shared emptyDir did not finish"
[ "$(cat "$STATE/tn_shared/reader.log")" = from-writer ] || fail "reader read: $(cat "$STATE/tn_shared/reader.log")"
phase_is shared Running || fail "pod shared is not Running while its writer runs"
wait_until 120 phase_is retry Succeeded || fail "pod retry did not succeed after its restart"
restarts=$(jp pod/retry -n tn -o 'jsonpath={.status.containerStatuses[0].restartCount}')
[ "$restarts" = 1 ] || fail "pod retry restarted $restarts times, not 1"
wait_until 120 phase_is stash Succeeded || { tail -5 "$STATE"/tn_stash/*.log; fail "pod stash did not succeed"; }
grep -q "^stash " "$STATE/tn_stash/stash.log" || fail "stash image did not run the stash binary: $(cat "$STATE/tn_stash/stash.log")"
review=$(cat "$STATE/tn_stash/token.log") && review=${review//[[:space:]]/}
[[ "$review" == *'"username":"system:serviceaccount:tn:default"'* ]] || fail "service account token: $review"
pass "init container, shared emptyDir, OnFailure restart, stash image and service account token"

# --- Secret volume items, envFrom, readOnly, a claim with subPath, workingDir, /tmp ---
mkdir -p "$WORK/pv"
k -n tn create configmap cfg --from-literal=MODE=fast >/dev/null
k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: PersistentVolume
metadata: {name: tn-pv}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: manual
  hostPath: {path: $WORK/pv}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: claim, namespace: tn}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: manual
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: volumes, namespace: tn}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
    workingDir: /test-node-wd
    command: [sh, -c]
    args: ['cat /etc/test-node/greet/file; echo; echo "\$MODE \$PFX_MODE"; pwd;
            if touch /test-node-ro/x 2>/dev/null; then echo ro-writable; else echo ro-refused; fi;
            echo pvc-data > /test-node-pvc/out; echo private > /tmp/probe']
    envFrom: [{configMapRef: {name: cfg}}, {configMapRef: {name: cfg}, prefix: PFX_}]
    volumeMounts:
    - {name: secret, mountPath: /etc/test-node}
    - {name: scratch, mountPath: /test-node-ro, readOnly: true}
    - {name: pvc, mountPath: /test-node-pvc, subPath: data}
    - {name: tmp, mountPath: /tmp}
  volumes:
  - {name: secret, secret: {secretName: app-secret, items: [{key: GREETING, path: greet/file}]}}
  - {name: scratch, emptyDir: {}}
  - {name: pvc, persistentVolumeClaim: {claimName: claim}}
  - {name: tmp, emptyDir: {}}
EOF
wait_until 120 phase_is volumes Succeeded || { cat "$STATE"/tn_volumes/*.log; fail "pod volumes did not succeed"; }
want=$(printf 'hello-from-secret\nfast fast\n/test-node-wd\nro-refused')
[ "$(cat "$STATE/tn_volumes/main.log")" = "$want" ] || fail "pod volumes printed: $(cat "$STATE/tn_volumes/main.log")"
[ "$(cat "$WORK/pv/data/out")" = pvc-data ] || fail "nothing written through the claim's subPath"
# Every other source lives under /tmp, which this pod's emptyDir covers.
[ "$(cat "$STATE/tn_volumes/volumes/tmp/probe")" = private ] && [ ! -e /tmp/probe ] ||
  fail "the emptyDir at /tmp was not the pod's own"
pass "secret items, envFrom with prefix, readOnly, a claim with subPath, workingDir, an emptyDir over /tmp"
check_node "after the pods"

# --- deleting the Deployment kills its processes ---
pids=()
for p in "${web_pods[@]}"; do pids+=("$(cat "$STATE/tn_$p/app.pid")"); done
for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || fail "web container pid $pid is not running"; done
k -n tn delete deployment web --timeout=90s >/dev/null || fail "deleting the deployment failed"
pod_gone() { ! k -n tn get pod "$1" >/dev/null 2>&1; }
for p in "${web_pods[@]}"; do wait_until 90 pod_gone "$p" || fail "pod $p did not vanish"; done
groups=$(ps -e -o pgid=)
for pid in "${pids[@]}"; do
  ! kill -0 "$pid" 2>/dev/null || fail "web container pid $pid still runs"
  ! grep -qw "$pid" <<< "$groups" || fail "a process of web container $pid's group still runs"
done
pass "deployment deleted: processes gone, pods vanished"

# --- deleting the namespace finishes ---
k delete namespace tn --timeout=120s >/dev/null || { k get ns tn -o yaml; fail "namespace tn stuck deleting"; }
pass "namespace deleted"
check_node "at the end"
# The test outlasts the 10 s heartbeat: a node that stopped beating would
# show here even before the lifecycle controller noticed.
heartbeat_moved() { [ "$(renewed_at)" != "$first_renewal" ] && [ "$(beat_at)" != "$first_beat" ]; }
wait_until 30 heartbeat_moved || fail "the node's Lease and Ready heartbeat were not renewed"
pass "node heartbeats renewed"

# --- the node stops cleanly, killing what still runs ---
wait_until 60 k -n default get serviceaccount default -o name >/dev/null 2>&1 || fail "no default service account"
k -n default run lingering --image=busybox --restart=Never --command -- sh -c 'exec sleep 3600' >/dev/null
wait_until 120 test -s "$STATE/default_lingering/lingering.pid" || fail "pod lingering never started"
lingering=$(cat "$STATE/default_lingering/lingering.pid")
stop_node
! kill -0 "$lingering" 2>/dev/null || fail "pid $lingering of pod lingering outlived the node"
[ ! -e "$STATE/test-node.pid" ] || fail "test_node.py left its pid file"
grep -q Traceback "$WORK/test-node.log" && { cat "$WORK/test-node.log"; fail "test_node.py logged a traceback"; }
pass "test_node.py stopped cleanly"
