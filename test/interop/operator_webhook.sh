#!/usr/bin/env bash
# The operator's mutating admission webhook on a real kube-apiserver
# (test/controlplane): `stash operator --webhook-url` registers a
# MutatingWebhookConfiguration trusting its own CA, and kube-apiserver sends
# it workload creates: a Deployment one Restic selects is stored with the
# stash sidecar already in it (generation 1: no controller patch came
# later); one selected by two Restics is admitted without it and kubectl
# prints the webhook's warning; while the operator is down workloads are
# still admitted (failurePolicy Ignore) and the controller adds the sidecar
# once it is back. A real Prometheus scrapes the operator's /metrics.
source "$(dirname "$0")/lib.sh"
source "$HERE/../controlplane/lib.sh"
command -v prometheus >/dev/null || { echo "SKIP: prometheus is not installed (scripts/install-deps.sh installs it)"; exit 77; }
cp_start_for_test "$WORK/cp"
k() { "$KUBECTL" --request-timeout=60s "$@"; }
k apply -f "$HERE/../../manifests/05-operator.yaml" >/dev/null
k create namespace demo >/dev/null
cp_token_kubeconfig stash stash-operator "$WORK/operator.kubeconfig"

port=$(_cp_free_port)
start_operator() {
  "$STASH" operator --kubeconfig "$WORK/operator.kubeconfig" --no-leader-elect --image stash:test \
    --webhook-url "https://127.0.0.1:$port" --webhook-port "$port" --webhook-bind-address 127.0.0.1 \
    >> "$WORK/operator.log" 2>&1 &
  operator_pid=$!
  pids+=($operator_pid)
}
start_operator
wait_until 90 grep -q "Restic controller running" "$WORK/operator.log" || { cat "$WORK/operator.log"; fail "operator did not start"; }
grep -q "webhook and /metrics serving on 127.0.0.1:$port" "$WORK/operator.log" || fail "no webhook line in the log"
ca=$(k get mutatingwebhookconfiguration admission.stash.appscode.com -o jsonpath='{.webhooks[0].clientConfig.caBundle}')
secret_ca=$(k -n stash get secret stash-operator-cert -o jsonpath='{.data.ca\.crt}')
[ -n "$ca" ] && [ "$ca" = "$secret_ca" ] || fail "caBundle is not the CA of Secret stash/stash-operator-cert"
url=$(k get mutatingwebhookconfiguration admission.stash.appscode.com -o jsonpath='{.webhooks[0].clientConfig.url}')
[ "$url" = "https://127.0.0.1:$port/apis/admission.stash.appscode.com/v1alpha1/deployments" ] || fail "webhook url $url"
pass "MutatingWebhookConfiguration registered with the operator's CA"

restic() {  # NAME SELECTOR-VALUE
  cat <<EOR
apiVersion: stash.appscode.com/v1alpha1
kind: Restic
metadata: {name: $1, namespace: demo}
spec:
  selector: {matchLabels: {backup: $2}}
  schedule: "@every 1m"
  fileGroups: [{path: /data, retentionPolicyName: keep}]
  backend:
    storageSecretName: repo-secret
    local: {mountPath: /safe/data, hostPath: {path: $WORK/backups}}
  volumeMounts: [{name: data, mountPath: /data}]
  retentionPolicies: [{name: keep, keepLast: 3}]
EOR
}
deployment() {  # NAME BACKUP-LABEL
  cat <<EOD
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1, namespace: demo, labels: {backup: $2}}
spec:
  replicas: 1
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
      containers: [{name: app, image: busybox, command: [sleep, "3600"], volumeMounts: [{name: data, mountPath: /data}]}]
      volumes: [{name: data, hostPath: {path: $WORK/$1-data}}]
EOD
}
restic web-backup web | k apply -f - >/dev/null
restic twin-a twins | k apply -f - >/dev/null
restic twin-b twins | k apply -f - >/dev/null
# The webhook reads Restics from its informer: wait until it has seen them
# (a server-side dry run goes through admission and stores nothing).
webhook_injects() { deployment probe web | k create --dry-run=server -o jsonpath='{.spec.template.spec.containers[*].name}' -f - > "$WORK/probe" 2>&1 && grep -qw stash "$WORK/probe"; }
wait_until 30 webhook_injects || { cat "$WORK/probe" "$WORK/operator.log"; fail "the webhook never injected in a server dry run"; }

created=$(deployment web web | k create -f - -o json)
names=$(jq -r '[.spec.template.spec.containers[].name] | join(" ")' <<<"$created")
generation=$(jq -r .metadata.generation <<<"$created")
[[ " $names " == *" stash "* ]] || fail "created deployment/web has containers '$names'"
[ "$generation" = 1 ] || fail "deployment/web generation $generation: the sidecar came from a later update"
args=$(jq -c '.spec.template.spec.containers[] | select(.name=="stash") | .args' <<<"$created")
grep -q -- '--restic-name=web-backup' <<<"$args" && grep -q -- '--workload-name=web' <<<"$args" || fail "sidecar args $args"
pass "deployment/web was stored with the sidecar at creation (generation 1)"

deployment twins twins | k create -f - > "$WORK/twins.out" 2> "$WORK/twins.err" || fail "twins refused: $(cat "$WORK/twins.err")"
grep -q "Restics twin-a, twin-b all select this Deployment" "$WORK/twins.err" || fail "no warning: $(cat "$WORK/twins.err")"
[[ " $(k -n demo get deployment twins -o jsonpath='{.spec.template.spec.containers[*].name}') " != *" stash "* ]] ||
  fail "twins got a sidecar"
pass "a Deployment two Restics select is admitted without a sidecar, and kubectl shows the warning"

deployment plain none | k create -f - >/dev/null
[ "$(k -n demo get deployment plain -o jsonpath='{.spec.template.spec.containers[*].name}')" = app ] ||
  fail "plain deployment changed"
pass "a Deployment no Restic selects is stored as sent"

code=$(curl -sk -o "$WORK/bad.out" -w '%{http_code}' -X POST --data 'not a review' \
  "https://127.0.0.1:$port/apis/admission.stash.appscode.com/v1alpha1/deployments")
[ "$code" = 400 ] && grep -q "not a JSON object" "$WORK/bad.out" || fail "garbage review: $code $(cat "$WORK/bad.out")"
pass "a body that is not an AdmissionReview: 400 naming why"

# The validating webhook refuses a Restic the sidecar could not run.
restic bad-schedule invalid | sed 's/"@every 1m"/"61 * * * *"/' > "$WORK/bad-restic.yaml"
if k apply -f "$WORK/bad-restic.yaml" > "$WORK/bad-restic.out" 2>&1; then fail "a Restic with schedule '61 * * * *' was admitted"; fi
grep -q 'admission webhook "restic.admission.stash.appscode.com" denied the request: .*minute' "$WORK/bad-restic.out" ||
  fail "bad schedule: $(cat "$WORK/bad-restic.out")"
restic no-policy invalid | sed 's/retentionPolicyName: keep}/retentionPolicyName: gone}/' > "$WORK/no-policy.yaml"
if k apply -f "$WORK/no-policy.yaml" > "$WORK/no-policy.out" 2>&1; then fail "a Restic naming a missing retention policy was admitted"; fi
# The CRD's own rule refuses this before the webhook sees it; either names the field.
grep -q "retentionPolicyName" "$WORK/no-policy.out" || fail "missing policy: $(cat "$WORK/no-policy.out")"
pass "a bad schedule is denied by the validating webhook, a missing retention policy by the CRD, each named"

# Prometheus scrapes /metrics, trusting the operator's CA.
k -n stash get secret stash-operator-cert -o jsonpath='{.data.ca\.crt}' | base64 -d > "$WORK/ca.crt"
prom_port=$(_cp_free_port)
cat > "$WORK/prometheus.yml" <<EOP
global: {scrape_interval: 1s}
scrape_configs:
- job_name: stash-operator
  scheme: https
  tls_config: {ca_file: $WORK/ca.crt}
  static_configs: [{targets: ["127.0.0.1:$port"]}]
EOP
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom-data" \
  --web.listen-address="127.0.0.1:$prom_port" > "$WORK/prometheus.log" 2>&1 &
pids+=($!)
query() { curl -sf "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" > "$WORK/query.json"; }
patched() { query 'stash_operator_admission_reviews_total{kind="Deployment",result="patched"}' &&
  [ "$(jq -r '.data.result[0].value[1] // 0' "$WORK/query.json")" -ge 2 ]; }
wait_until 60 patched || { cat "$WORK/query.json" "$WORK/prometheus.log" | tail -20; fail "Prometheus has no patched reviews"; }
query 'up{job="stash-operator"}'
[ "$(jq -r '.data.result[0].value[1]' "$WORK/query.json")" = 1 ] || fail "target not up: $(cat "$WORK/query.json")"
query 'stash_operator_leader'
[ "$(jq -r '.data.result[0].value[1]' "$WORK/query.json")" = 1 ] || fail "leader gauge: $(cat "$WORK/query.json")"
pass "Prometheus scraped /metrics over TLS: reviews by kind and result, leader gauge 1"

# Operator down: workloads are admitted unchanged (failurePolicy Ignore);
# back up, the controller adds the sidecar.
kill "$operator_pid"; wait "$operator_pid" 2>/dev/null || true
deployment late web | k create -f - >/dev/null || fail "create refused while the operator is down"
k apply -f "$WORK/bad-restic.yaml" >/dev/null || fail "with the operator down a Restic is not admitted"
[[ " $(k -n demo get deployment late -o jsonpath='{.spec.template.spec.containers[*].name}') " != *" stash "* ]] ||
  fail "late got a sidecar with no operator running"
start_operator
late_has_sidecar() { [[ " $(k -n demo get deployment late -o jsonpath='{.spec.template.spec.containers[*].name}') " == *" stash "* ]]; }
wait_until 90 late_has_sidecar || { tail -20 "$WORK/operator.log"; fail "the controller did not add the sidecar to deployment/late"; }
invalid_event() { k -n demo get events --field-selector reason=InvalidRestic,involvedObject.name=bad-schedule -o name > "$WORK/inv" && [ -s "$WORK/inv" ]; }
wait_until 60 invalid_event || fail "no InvalidRestic Event for the Restic admitted while the operator was down"
k -n demo delete restic bad-schedule >/dev/null
pass "with the operator down a workload and a bad Restic are admitted as sent; back up, the controller adds the sidecar and tells on the Restic"

# A ReplicaSet does not roll its pods on a template change: when a Restic
# comes to select it, its pods are deleted so they come back with the
# sidecar. A ReplicaSet a Deployment controls is left to the Deployment.
replicaset() {  # NAME BACKUP-LABEL [OWNER-UID]
  cat <<EOR
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: $1
  namespace: demo
  labels: {backup: $2}
$( [ -n "${3:-}" ] && echo "  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: $3, controller: true}]" )
spec:
  replicas: 1
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
      containers: [{name: app, image: busybox, command: [sleep, "3600"], volumeMounts: [{name: data, mountPath: /data}]}]
      volumes: [{name: data, hostPath: {path: $WORK/$1-data}}]
EOR
}
web_uid=$(k -n demo get deployment web -o jsonpath='{.metadata.uid}')
replicaset web-rs web "$web_uid" | k create -f - >/dev/null
[ "$(k -n demo get rs web-rs -o jsonpath='{.spec.template.spec.containers[*].name}')" = app ] ||
  fail "a ReplicaSet controlled by deployment/web got its own sidecar"
replicaset legacy later | k create -f - >/dev/null
rs_uid=$(k -n demo get rs legacy -o jsonpath='{.metadata.uid}')
k -n demo create serviceaccount default >/dev/null  # no controller manager here makes it
k apply -f - >/dev/null <<EOP
apiVersion: v1
kind: Pod
metadata:
  name: legacy-pod
  namespace: demo
  labels: {app: legacy}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: legacy, uid: $rs_uid, controller: true}]
spec:
  containers: [{name: app, image: busybox, command: [sleep, "3600"]}]
EOP
restic later-backup later | k apply -f - >/dev/null
pod_gone() { ! k -n demo get pod legacy-pod >/dev/null 2>&1; }
wait_until 60 pod_gone || fail "the pod of replicaset/legacy was not restarted"
[[ " $(k -n demo get rs legacy -o jsonpath='{.spec.template.spec.containers[*].name}') " == *" stash "* ]] ||
  fail "replicaset/legacy has no sidecar"
k -n demo get events --field-selector reason=PodsRestarted -o name > "$WORK/events"
[ -s "$WORK/events" ] || fail "no PodsRestarted Event"
pass "a ReplicaSet a Restic comes to select gets the sidecar and its pods are restarted; one a Deployment controls is skipped"

restic lonely nobody | k apply -f - >/dev/null
lonely_event() { k -n demo get events --field-selector reason=NoWorkloadSelected,involvedObject.name=lonely -o name > "$WORK/lonely" && [ -s "$WORK/lonely" ]; }
wait_until 60 lonely_event || fail "no NoWorkloadSelected Event for a Restic whose selector matches nothing"
pass "a Restic whose selector matches no workload gets a NoWorkloadSelected Warning"
