#!/usr/bin/env bash
# `stash operator` on a real kube-apiserver (test/controlplane): Restics put
# the stash sidecar into the workloads they select and take it out again;
# a workload selected by two Restics gets a Warning Event and no sidecar;
# two operator replicas elect one leader through a Lease, and the other takes
# over when it stops.
source "$(dirname "$0")/lib.sh"
source "$HERE/../controlplane/lib.sh"
cp_start_for_test "$WORK/cp"
k() { "$KUBECTL" --request-timeout=60s "$@"; }
k create namespace demo >/dev/null
k apply -f - >/dev/null <<EOD
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: demo, labels: {backup: enabled}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: busybox, command: [sleep, "3600"], volumeMounts: [{name: data, mountPath: /data}]}]
      volumes: [{name: data, hostPath: {path: $WORK/web-data}}]
EOD
k -n demo create deployment db --image=busybox -- sleep 3600 >/dev/null

# The operator runs as the manifests' service account, so their RBAC is what is tested.
# (No controller manager runs here, so the manifest's Deployment makes no pods.)
k apply -f "$HERE/../../manifests/05-operator.yaml" >/dev/null
cp_token_kubeconfig stash stash-operator "$WORK/operator.kubeconfig"
start_operator() {  # NAME
  "$STASH" operator --kubeconfig "$WORK/operator.kubeconfig" --lease-namespace stash --identity "$1" --no-webhook \
    --image stash:test > "$WORK/$1.log" 2>&1 &
  pids+=($!)
}
start_operator op-a
wait_until 60 grep -q "Restic controller running" "$WORK/op-a.log" || { cat "$WORK/op-a.log"; fail "op-a did not lead"; }
start_operator op-b
wait_until 30 grep -q "operator started" "$WORK/op-b.log" || fail "op-b did not start"
holder=$(k -n stash get lease stash-operator -o jsonpath='{.spec.holderIdentity}')
[ "$holder" = op-a ] || fail "lease holder is '$holder'"
pass "two replicas, one leader (op-a holds the Lease)"

restic() {  # NAME SELECTOR-LABEL SCHEDULE
  cat <<EOR
apiVersion: stash.appscode.com/v1alpha1
kind: Restic
metadata: {name: $1, namespace: demo}
spec:
  selector: {matchLabels: {backup: $2}}
  schedule: "$3"
  fileGroups: [{path: /data, retentionPolicyName: keep}]
  backend:
    storageSecretName: repo-secret
    local: {mountPath: /safe/data, hostPath: {path: $WORK/backups}}
  volumeMounts: [{name: data, mountPath: /data}]
  retentionPolicies: [{name: keep, keepLast: 3, prune: true}]
EOR
}
containers() { k -n demo get deployment "$1" -o jsonpath='{.spec.template.spec.containers[*].name}'; }
has_sidecar() { [[ " $(containers "$1") " == *" stash "* ]]; }

restic web-backup enabled "@every 1m" | k apply -f - >/dev/null
wait_until 60 has_sidecar web || { cat "$WORK/op-a.log"; fail "no sidecar injected into deployment/web"; }
args=$(k -n demo get deployment web -o jsonpath='{.spec.template.spec.containers[?(@.name=="stash")].args}')
grep -q -- '--restic-name=web-backup' <<<"$args" && grep -q -- '--workload-kind=Deployment' <<<"$args" &&
  grep -q -- '--workload-name=web' <<<"$args" || fail "sidecar args: $args"
mounts=$(k -n demo get deployment web -o jsonpath='{.spec.template.spec.containers[?(@.name=="stash")].volumeMounts}')
grep -q '"readOnly":true' <<<"$mounts" && grep -q stash-local <<<"$mounts" || fail "sidecar mounts: $mounts"
! has_sidecar db || fail "deployment/db got a sidecar it was not selected for"
events=$(k -n demo get events --field-selector involvedObject.name=web,reason=SidecarInjected -o name)
[ -n "$events" ] || fail "no SidecarInjected Event"
pass "a Restic injects the sidecar into the Deployment it selects, not into others"

# A Restic mounting a volume the workload does not have: an Event naming it, nothing written.
k -n demo label deployment db backup=nodata >/dev/null
restic db-backup nodata "@every 1m" | k apply -f - >/dev/null
wait_until 60 bash -c "'$KUBECTL' -n demo get events --field-selector involvedObject.name=db,reason=FailedToInjectSidecar -o jsonpath='{.items[*].message}' | grep -q 'volume \"data\"'" ||
  fail "no FailedToInjectSidecar Event for the missing volume"
! has_sidecar db || fail "deployment/db got a sidecar without its volume"
k -n demo delete restic db-backup >/dev/null
pass "a Restic mounting a volume the workload lacks: a Warning Event naming it, the workload untouched"

# A changed Restic changes the sidecar's recorded configuration.
restic web-backup enabled "@every 5m" | k apply -f - >/dev/null
applied() { k -n demo get deployment web -o jsonpath='{.metadata.annotations.restic\.appscode\.com/last-applied-configuration}'; }
wait_until 60 bash -c "$(declare -f k applied); KUBECTL='$KUBECTL'; [[ \"\$(applied)\" == *'every 5m'* ]]" ||
  fail "Restic change not applied: $(applied)"
pass "a changed Restic updates the workload"

# Two Restics select the same workload: an Event, and no sidecar.
restic web-backup-2 enabled "@every 1m" | k apply -f - >/dev/null
wait_until 60 bash -c "! [[ \" \$('$KUBECTL' -n demo get deployment web -o jsonpath='{.spec.template.spec.containers[*].name}') \" == *' stash '* ]]" ||
  fail "sidecar kept although two Restics match"
wait_until 30 bash -c "'$KUBECTL' -n demo get events --field-selector reason=MultipleResticsMatched -o name | grep -q ." ||
  fail "no MultipleResticsMatched Event"
pass "two Restics on one workload: Warning Event, no sidecar"
k -n demo delete restic web-backup-2 >/dev/null
wait_until 60 has_sidecar web || fail "sidecar not back after the second Restic went"

# The leader stops: the other replica takes over and keeps reconciling.
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true
wait_until 60 grep -q "Restic controller running" "$WORK/op-b.log" || { cat "$WORK/op-b.log"; fail "op-b did not take over"; }
k -n demo delete restic web-backup >/dev/null
wait_until 60 bash -c "! [[ \" \$('$KUBECTL' -n demo get deployment web -o jsonpath='{.spec.template.spec.containers[*].name}') \" == *' stash '* ]]" ||
  fail "sidecar not removed after the Restic was deleted"
annotations=$(k -n demo get deployment web -o jsonpath='{.metadata.annotations}')
! grep -q "restic.appscode.com/last-applied-configuration" <<<"$annotations" || fail "annotation left: $annotations"
pass "the standby takes over when the leader stops; deleting the Restic removes the sidecar"
echo "operator: all checks passed"
